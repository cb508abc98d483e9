namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>One set of axes in a chart: a title, axis labels and the series drawn on it.</summary>
internal sealed record ChartPanel(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series);
