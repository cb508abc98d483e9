using SkiaSharp;

namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>One line of a chart panel, optionally with a shaded band (e.g. mean ± 1 std); NaN values break the line.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Color">Line colour (the band uses it translucent).</param>
/// <param name="X">X coordinates, ascending.</param>
/// <param name="Y">Y values, one per X.</param>
/// <param name="Low">Lower edge of the band, or null for none.</param>
/// <param name="High">Upper edge of the band, or null for none.</param>
/// <param name="Steps">Draw as a staircase: each value holds until the next X (for piecewise-constant traces).</param>
/// <param name="Dashed">Draw dashed (e.g. training curves next to solid validation curves).</param>
internal sealed record ChartSeries(string Label, SKColor Color, double[] X, double[] Y, double[]? Low = null, double[]? High = null,
    bool Steps = false, bool Dashed = false);
