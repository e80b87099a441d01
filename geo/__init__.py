"""Reading, validating, projecting and joining the spatial data of the service.

Data flows one way: ``load -> validate -> to_bng -> join`` and then on to
:mod:`analysis`. Every frame leaving this package is in British National Grid
(EPSG:27700) so that distances, bandwidths and cells are in metres.
"""
