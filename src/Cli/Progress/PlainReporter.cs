using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Progress;

/// <summary>Progress for logs and tests: a line per run and per epoch, and one every <paramref name="logEvery"/> steps when it is positive.</summary>
internal sealed class PlainReporter(TextWriter output, int logEvery = 0) : ITrainingReporter
{
    private int epochs;

    public void StartRun(string title, int epochs, int firstEpoch = 1)
    {
        this.epochs = epochs;
        Line(firstEpoch > 1 ? $"{title}: epochs {firstEpoch}..{epochs}" : $"{title}: {epochs} epoch(s)");
    }

    public void Step(StepProgress step)
    {
        // Long epochs (CIFAR on a CPU) would otherwise leave a log silent for minutes.
        if (logEvery > 0 && (step.Step % logEvery == 0 || step.Step == step.StepsPerEpoch))
            Line(StepLine(step));
    }

    /// <summary>"epoch 2/10  step 30/98  loss 1.8234  lr 4.2e-4"</summary>
    public static string StepLine(StepProgress step) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"epoch {step.Epoch}/{step.Epochs}  step {step.Step}/{step.StepsPerEpoch}  loss {step.RunningLoss:F4}  lr {step.LearningRate:0.###e+0}");

    public void Epoch(EpochMetrics metrics) => Line(EpochLine.Format(metrics, epochs));

    public void Line(string text)
    {
        // Training reports from its own thread; keep lines whole.
        lock (output)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }
}
