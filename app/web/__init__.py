"""Routes. Importing app.inputs first registers the `{name:id}` path convertor they use."""

import app.inputs  # noqa: F401
