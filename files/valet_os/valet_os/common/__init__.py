"""Code shared by the Heat and Nova sides: the [valet] options and the valet-api client."""
