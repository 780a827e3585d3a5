"""kzgeo: map what German-language reporting says about Kazakhstan and its neighbours."""

__version__ = "0.1.0"
