namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Gives the value-mixing weights (<c>V' = beta * V + alpha * softmax_over_tokens(V)</c>) for a training step.
/// The loop asks before every step and writes the answer into the network's <c>Mixing</c>.
/// </summary>
public interface IMixingSchedule
{
    /// <summary>Alpha and beta for the step about to run.</summary>
    /// <param name="epoch">0-based index of the running epoch.</param>
    /// <param name="step">0-based index of the optimisation step over the whole run.</param>
    (double Alpha, double Beta) At(int epoch, long step);
}
