using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>
/// The learning curves of one training run as a PNG: loss and accuracy per epoch (training dashed, validation solid)
/// and, when alpha or beta vary, a third panel with the mixing weights per step (from
/// <see cref="TrainingHistory.MixingSteps"/>, else per epoch).
/// </summary>
public static class LearningCurvePlot
{
    /// <summary>Writes the plot of <paramref name="history"/> to <paramref name="path"/> (atomically).</summary>
    /// <param name="history">A history with at least one epoch.</param>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="title">Prefix of the panel titles, e.g. the model's name; null for none.</param>
    public static void Save(TrainingHistory history, string path, string? title = null) =>
        ChartRenderer.SavePng(path, Panels(history, title));

    /// <summary>The PNG bytes of the plot of <paramref name="history"/>.</summary>
    public static byte[] Render(TrainingHistory history, string? title = null) => ChartRenderer.RenderPng(Panels(history, title));

    private static List<ChartPanel> Panels(TrainingHistory history, string? title)
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Epochs;
        if (epochs.Count == 0)
            throw new ArgumentException("The history has no epoch to plot.", nameof(history));
        string prefix = string.IsNullOrEmpty(title) ? "" : title + ": ";
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        double[] Values(Func<EpochMetrics, double?> f) => epochs.Select(e => f(e) ?? double.NaN).ToArray();
        var train = ChartPalette.At(0);
        var validation = ChartPalette.At(1);

        var panels = new List<ChartPanel>
        {
            new(prefix + "loss", "epoch", "loss",
            [
                new ChartSeries("train", train, x, Values(e => e.TrainLoss), Dashed: true),
                new ChartSeries("validation", validation, x, Values(e => e.ValidationLoss)),
            ]),
            new(prefix + "accuracy", "epoch", "top-1 accuracy",
            [
                new ChartSeries("train", train, x, Values(e => e.TrainAccuracy), Dashed: true),
                new ChartSeries("validation", validation, x, Values(e => e.ValidationTop1)),
            ]),
        };
        if (MixingPanel(history, prefix) is { } mixing)
            panels.Add(mixing);
        return panels;
    }

    private static ChartPanel? MixingPanel(TrainingHistory history, string prefix)
    {
        var epochs = history.Epochs;
        var points = history.MixingSteps;
        bool varies = epochs.Select(e => (e.Alpha, e.Beta)).Distinct().Count() > 1 || points.Count > 1;
        if (!varies)
            return null;
        double[] x, alpha, beta;
        // Steps are drawn in epoch units (step s of an epoch of S steps sits at s / S), so the panels share their x axis.
        double stepsPerEpoch = epochs[0].Steps > 0 ? epochs[0].Steps : 1;
        if (points.Count > 0)
        {
            var last = epochs[^1];
            x = points.Select(p => p.Step / stepsPerEpoch).Append(last.Steps / stepsPerEpoch).ToArray();
            alpha = points.Select(p => p.Alpha).Append(last.Alpha).ToArray();
            beta = points.Select(p => p.Beta).Append(last.Beta).ToArray();
        }
        else
        {
            x = epochs.Select(e => (double)e.Epoch).ToArray();
            alpha = epochs.Select(e => e.Alpha).ToArray();
            beta = epochs.Select(e => e.Beta).ToArray();
        }
        return new ChartPanel(prefix + "value mixing", "epoch", "weight",
        [
            new ChartSeries("alpha (softmax)", ChartPalette.At(2), x, alpha, Steps: points.Count > 0),
            new ChartSeries("beta (values)", ChartPalette.At(3), x, beta, Steps: points.Count > 0, Dashed: true),
        ]);
    }
}
