using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>What running a trial produced.</summary>
/// <param name="Metric">The experiment's metric on the validation data.</param>
/// <param name="History">The configuration's learning curve so far (a parent's epochs first).</param>
/// <param name="ModelPath">Where the model was saved, if it was.</param>
/// <param name="Model">The trained model, when the runner trains one; the search keeps the best and disposes the rest.</param>
internal sealed record TrialOutcome(double Metric, TrainingHistory History, string? ModelPath = null, CompactTransformerModel? Model = null);
