"""Open every layer of a GeoPackage as QGIS does and print what QGIS sees, as JSON.

Run with the system Python that has QGIS (Debian: ``qgis python3-qgis``), never Lantern's venv; it
imports nothing of Lantern:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis/open_in_qgis.py FILE.gpkg

Layers are listed as QGIS's browser and Data Source Manager list them (``querySublayers`` with the
geometry types resolved, so a table that mixes points and areas shows up as two layers) and opened
from their sublayer details, which loads each layer's default style from the GeoPackage's
``layer_styles`` table. For each layer it prints its name, URI, geometry type, feature count,
validity, renderer (type, symbols and their colours, categories or rules) and per field its alias
and editor widget (type and configuration, e.g. a ValueMap's values).
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402  (after the platform is set)
    Qgis,
    QgsApplication,
    QgsCoordinateTransformContext,
    QgsProviderRegistry,
    QgsProviderSublayerDetails,
    QgsRenderContext,
    QgsWkbTypes,
)

COLOR_KEYS = ("color", "outline_color", "line_color")


def plain(value):
    """A value of a widget configuration as JSON can hold it."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def symbol_info(symbol):
    layers = []
    for i in range(symbol.symbolLayerCount()):
        sl = symbol.symbolLayer(i)
        props = sl.properties()
        layers.append({"class": sl.layerType(), **{k: props[k] for k in COLOR_KEYS if k in props}})
    return {"type": {0: "marker", 1: "line", 2: "fill"}.get(int(symbol.type()), str(symbol.type())),
            "color": symbol.color().name(), "opacity": round(symbol.color().alphaF(), 3), "layers": layers}


def renderer_info(layer):
    renderer = layer.renderer() if layer.isSpatial() else None
    if renderer is None:
        return None
    info = {"type": renderer.type(),
            "symbols": [symbol_info(s) for s in renderer.symbols(QgsRenderContext())]}
    if renderer.type() == "categorizedSymbol":
        info["attribute"] = renderer.classAttribute()
        info["categories"] = [{"value": plain(c.value()), "label": c.label(), "symbol": symbol_info(c.symbol())}
                              for c in renderer.categories()]
    if renderer.type() == "RuleRenderer":
        info["rules"] = [{"filter": r.filterExpression(), "label": r.label()}
                         for r in renderer.rootRule().children()]
    return info


def fields_info(layer):
    out = []
    for i, field in enumerate(layer.fields()):
        setup = layer.editorWidgetSetup(i)
        out.append({"name": field.name(), "type": field.typeName(), "alias": layer.attributeAlias(i),
                    "widget": setup.type(), "config": plain(setup.config())})
    return out


def db_styles(layer):
    """Names of the styles kept in the file for this layer (QGIS's 'Load style … from database')."""
    result = layer.listStylesInDatabase()
    count, names = result[0], result[2]
    return list(names[:max(count, 0)])


def layer_info(details, layer):
    return {
        "name": details.name(),
        "uri": details.uri(),
        "valid": layer.isValid(),
        "spatial": layer.isSpatial(),
        "geometry_type": QgsWkbTypes.displayString(layer.wkbType()),
        "feature_count": layer.featureCount(),
        "read_only": layer.readOnly(),
        "db_styles": db_styles(layer),
        "renderer": renderer_info(layer),
        "fields": fields_info(layer),
    }


def main(path):
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    flags = Qgis.SublayerQueryFlags(Qgis.SublayerQueryFlag.ResolveGeometryType | Qgis.SublayerQueryFlag.CountFeatures)
    sublayers = QgsProviderRegistry.instance().querySublayers(path, flags)
    options = QgsProviderSublayerDetails.LayerOptions(QgsCoordinateTransformContext())
    options.loadDefaultStyle = True
    report = {"qgis": Qgis.version(), "path": path,
              "sublayers": [{"name": d.name(), "uri": d.uri(), "provider": d.providerKey(),
                             "geometry_type": QgsWkbTypes.displayString(d.wkbType()),
                             "feature_count": d.featureCount()} for d in sublayers],
              "layers": []}
    for details in sublayers:
        layer = details.toLayer(options)
        report["layers"].append(layer_info(details, layer))
        del layer  # a layer alive at exitQgis() crashes QGIS 3.22
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    sys.stdout.flush()
    app.exitQgis()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: open_in_qgis.py FILE.gpkg")
    main(os.path.abspath(sys.argv[1]))
