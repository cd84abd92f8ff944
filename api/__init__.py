"""The package `forecast` (this folder; its parts are the folders app/, data/, models/, pipelines/): from Python,

    from forecast import Forecaster

`Forecaster` (api/forecaster.py) is imported when first asked for, so that `import forecast.data` stays light
and a logged model's own copy of the code (without this folder) imports as before."""


def __getattr__(name: str):
    if name == "Forecaster":
        from forecast.forecaster import Forecaster

        return Forecaster
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


__all__ = ["Forecaster"]
