using System.Globalization;
using Microsoft.ML.CompactTransformer.Cli.Progress;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Plotting;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// <c>cct train</c>: trains one model on an image tree or IDX files and writes <c>model.zip</c> (an ordinary ML.NET model
/// zip), <c>history.csv</c>, <c>history.json</c> and <c>learning-curve.png</c> into the output folder.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Sub-folder of the output folder that receives the checkpoints.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>Runs the command; returns the exit code. Errors the user can fix go to <paramref name="error"/> as one line.</summary>
    public static int Run(TrainArguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("train", error, () =>
        {
            Train(arguments, output);
            return ExitCodes.Success;
        });

    private static void Train(TrainArguments a, TextWriter output)
    {
        if (a.CheckpointEvery < 0)
            throw new CommandLineException($"--checkpoint-every must be 0 (none) or more (got {a.CheckpointEvery}).");
        if (a.LogEvery < 0)
            throw new CommandLineException($"--log-every must be 0 (epoch lines only) or more (got {a.LogEvery}).");
        string? resume = a.Resume is null ? null : ResumeFolder(a.Resume);
        string device = TrainerOptionsFactory.Device(a.Recipe);
        var data = DatasetLoader.Load(a.Data, a.Recipe.Seed);
        var options = TrainerOptionsFactory.Create(a.Recipe, data);
        Directory.CreateDirectory(a.Output);
        if (a.CheckpointEvery > 0)
        {
            options.CheckpointEvery = a.CheckpointEvery;
            options.CheckpointFolder = Path.Combine(a.Output, CheckpointsFolder);
        }
        options.ResumeFrom = resume;
        if (a.LogEvery > 0)
            options.StepCallbackEvery = a.LogEvery;
        int epochs = TrainerOptionsFactory.Epochs(options);
        int firstEpoch = resume is null ? 1 : TrainingCheckpoint.ReadState(resume).EpochsCompleted + 1;

        var ml = new MLContext(options.Seed);
        var trainView = ImageDatasetDataView.ToDataView(ml, data.Train);
        var validationView = data.Validation is null ? null : ImageDatasetDataView.ToDataView(ml, data.Validation);
        output.WriteLine($"Training {a.Recipe.Architecture} on {data.Description}; device {device}");
        using var model = TrainingDisplay.Run(output, reporter =>
        {
            options.StepCallback = reporter.Step;
            options.MetricsCallback = reporter.Epoch;
            reporter.StartRun(a.Recipe.Architecture, epochs, firstEpoch);
            try
            {
                return new CompactTransformerEstimator(options).Fit(trainView, validationView, CancellationToken.None);
            }
            catch (InvalidOperationException e) when (resume is not null && e.Message.StartsWith("Checkpoint", StringComparison.Ordinal))
            {
                // The checkpoint was written by a run with other settings: say which, as the library does.
                throw new CommandLineException(e.Message + " Resume with the flags of the interrupted run.");
            }
        }, a.LogEvery);

        string modelPath = Path.Combine(a.Output, "model.zip");
        // ML.NET leaves a partial zip behind when Save fails: write a sibling temp file and rename it.
        AtomicFile.Write(modelPath, temp => ml.Model.Save(model, trainView.Schema, temp));
        model.History.SaveCsv(Path.Combine(a.Output, "history.csv"));
        model.History.SaveJson(Path.Combine(a.Output, "history.json"));
        LearningCurvePlot.Save(model.History, Path.Combine(a.Output, "learning-curve.png"), a.Recipe.Architecture);
        WriteSummary(output, model.History, a.Output);
    }

    /// <summary>An earlier output folder means its checkpoints; anything else is handed to the trainer as it is.</summary>
    private static string ResumeFolder(string path)
    {
        string inOutput = Path.Combine(path, CheckpointsFolder);
        string folder = Directory.Exists(inOutput) ? inOutput : path;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"--resume: '{path}' is neither a checkpoint folder nor an output folder with {CheckpointsFolder}/.");
        TrainingCheckpoint.Locate(folder); // no checkpoint in it: say so now, before the data is read
        return folder;
    }

    private static void WriteSummary(TextWriter output, TrainingHistory history, string folder)
    {
        var last = history.Epochs.Count > 0 ? history.Epochs[^1] : null;
        var best = history.Epochs.Where(e => e.ValidationTop1 is not null).MaxBy(e => e.ValidationTop1);
        if (last is not null)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Trained {last.Epoch} epoch(s); last train_loss {last.TrainLoss:F4}") +
                (best is null ? "" : string.Create(CultureInfo.InvariantCulture, $", best val_acc {best.ValidationTop1:F4} (epoch {best.Epoch})")));
        output.WriteLine($"Wrote {Path.Combine(folder, "model.zip")}, history.csv, history.json, learning-curve.png");
    }
}
