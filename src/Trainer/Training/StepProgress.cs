namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Where training stands within an epoch, for progress bars; see <see cref="TrainingSettings.StepCallback"/>.</summary>
/// <param name="Epoch">1-based epoch being trained.</param>
/// <param name="Epochs">Epochs the run will train in all.</param>
/// <param name="Step">1-based step within the epoch just finished.</param>
/// <param name="StepsPerEpoch">Steps in every epoch.</param>
/// <param name="RunningLoss">Mean training loss over the epoch's images so far.</param>
/// <param name="LearningRate">Learning rate of the step.</param>
public sealed record StepProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double RunningLoss, double LearningRate);
