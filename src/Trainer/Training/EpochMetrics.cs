namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>What one training epoch did, as recorded in a <see cref="TrainingHistory"/>.</summary>
public sealed record EpochMetrics
{
    /// <summary>1-based epoch number.</summary>
    public int Epoch { get; init; }

    /// <summary>Optimisation steps taken since training started, this epoch included.</summary>
    public long Steps { get; init; }

    /// <summary>Mean training loss over the epoch's images, as optimised (label smoothing included, augmented images, training mode).</summary>
    public double TrainLoss { get; init; }

    /// <summary>Fraction of the epoch's training images whose top logit was the label (augmented images, training mode).</summary>
    public double TrainAccuracy { get; init; }

    /// <summary>Mean plain cross-entropy on the validation set after the epoch; null without validation data.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Top-1 accuracy on the validation set after the epoch; null without validation data.</summary>
    public double? ValidationTop1 { get; init; }

    /// <summary>Top-5 accuracy on the validation set (top-K with K = classes when fewer than 5); null without validation data.</summary>
    public double? ValidationTop5 { get; init; }

    /// <summary>Learning rate of the epoch's last step.</summary>
    public double LearningRate { get; init; }

    /// <summary>Value-mixing alpha of the epoch's last step.</summary>
    public double Alpha { get; init; }

    /// <summary>Value-mixing beta of the epoch's last step.</summary>
    public double Beta { get; init; }

    /// <summary>Wall-clock seconds of the epoch, validation included.</summary>
    public double Seconds { get; init; }

    /// <summary>Training images per second over the epoch's training phase (validation excluded).</summary>
    public double ImagesPerSecond { get; init; }
}
