using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>What the training commands tell the user while they run; called from the training thread.</summary>
internal interface ITrainingReporter
{
    /// <summary>A run (a training, a comparison run, a search trial) starts: <paramref name="epochs"/> epochs, the first being <paramref name="firstEpoch"/>.</summary>
    void StartRun(string title, int epochs, int firstEpoch = 1);

    /// <summary>Some steps of the current epoch are done.</summary>
    void Step(StepProgress step);

    /// <summary>An epoch finished.</summary>
    void Epoch(EpochMetrics metrics);

    /// <summary>A line of text for the log.</summary>
    void Line(string text);
}
