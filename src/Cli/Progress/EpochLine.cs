using System.Globalization;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>One finished epoch as one line of text, the same for the plain log and the live display.</summary>
internal static class EpochLine
{
    public static string Format(EpochMetrics m, int epochs)
    {
        string validation = m.ValidationTop1 is { } top1
            ? $"  val_loss {F(m.ValidationLoss ?? double.NaN, "F4")}  val_acc {F(top1, "F4")}"
            : "";
        return $"epoch {m.Epoch}/{epochs}  train_loss {F(m.TrainLoss, "F4")}  train_acc {F(m.TrainAccuracy, "F4")}{validation}" +
            $"  lr {F(m.LearningRate, "0.###e+0")}  {F(m.Seconds, "F1")}s  {F(m.ImagesPerSecond, "F0")} img/s";
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
