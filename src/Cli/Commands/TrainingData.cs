using Microsoft.ML.CompactTransformer.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>The images a command trains on, and where they came from (for the summary line).</summary>
/// <param name="Train">Training images.</param>
/// <param name="Validation">Validation images; null when the data has no test split and no fraction was asked for.</param>
/// <param name="Description">E.g. "15 training and 5 validation images of 1x28x28, 10 classes (held out 25%)".</param>
internal sealed record TrainingData(ImageDataset Train, ImageDataset? Validation, string Description);
