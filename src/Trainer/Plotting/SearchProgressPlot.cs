using Microsoft.ML.CompactTransformer.Search;

namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>
/// A search's progress as a PNG: one line per trial, validation accuracy after each of its epochs against the search's
/// cumulative training time, so that early stopping and promotions show where the budget went.
/// </summary>
public static class SearchProgressPlot
{
    // Beyond this many trials the legend would cover the plot: only the best trial is named.
    private const int MaxLegendEntries = 10;

    /// <summary>Writes the plot of <paramref name="trials"/> (in the order they ran) to <paramref name="path"/>, atomically.</summary>
    /// <param name="trials">The trials, e.g. <see cref="CompactTransformerSearchResult.Trials"/>; at least one.</param>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="bestTrialId">The trial to name in the legend as the best one; null for none.</param>
    public static void Save(IReadOnlyList<TrialResult> trials, string path, int? bestTrialId = null) =>
        ChartRenderer.SavePng(path, [Panel(trials, bestTrialId)], panelWidth: 900, height: 480);

    /// <summary>The PNG bytes of the plot of <paramref name="trials"/>.</summary>
    public static byte[] Render(IReadOnlyList<TrialResult> trials, int? bestTrialId = null) =>
        ChartRenderer.RenderPng([Panel(trials, bestTrialId)], panelWidth: 900, height: 480);

    private static ChartPanel Panel(IReadOnlyList<TrialResult> trials, int? bestTrialId)
    {
        ArgumentNullException.ThrowIfNull(trials);
        if (trials.Count == 0)
            throw new ArgumentException("The search has no trial to plot.", nameof(trials));
        var series = new List<ChartSeries>();
        var ends = new Dictionary<int, (double X, double Y)>();
        double clock = 0;
        foreach (var trial in trials)
        {
            // A promoted trial's history starts with its parent's epochs: only the last EpochsTrained are its own.
            var epochs = trial.History.Epochs;
            var own = epochs.Skip(Math.Max(0, epochs.Count - trial.EpochsTrained)).ToArray();
            var x = new List<double>();
            var y = new List<double>();
            if (trial.ParentTrialId is { } parent && ends.TryGetValue(parent, out var start))
            {
                x.Add(start.X); // the line continues from where the parent stopped
                y.Add(start.Y);
            }
            double t = clock;
            foreach (var epoch in own)
            {
                t += epoch.Seconds;
                x.Add(t);
                y.Add(epoch.ValidationTop1 ?? double.NaN);
            }
            // A trial's wall clock also holds its evaluation and saving: the next one starts after all of it.
            clock += Math.Max(trial.Seconds, t - clock);
            if (x.Count > 0)
                ends[trial.TrialId] = (x[^1], y[^1]);
            bool best = trial.TrialId == bestTrialId;
            string label = best ? $"trial {trial.TrialId} (best)" : trials.Count <= MaxLegendEntries ? $"trial {trial.TrialId}" : "";
            series.Add(new ChartSeries(label, ChartPalette.At(Math.Max(0, trial.ConfigurationId - 1)), x.ToArray(), y.ToArray()));
        }
        return new ChartPanel("search progress: validation accuracy per epoch", "cumulative training seconds", "validation top-1 accuracy", series);
    }
}
