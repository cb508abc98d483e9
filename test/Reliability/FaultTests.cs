using Microsoft.ML.CompactTransformer.Search;
using Microsoft.ML.CompactTransformer.Tests.Cli;
using Microsoft.ML.CompactTransformer.Tests.Data;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Search;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Faults: a training process killed mid-epoch, saves that fail part-way, and cancellation of Fit and of a search.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class FaultTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    // ---- killed mid-epoch ----------------------------------------------------------------------------------------------

    [Fact]
    public void Killing_cct_train_mid_epoch_keeps_its_checkpoint_intact_and_the_resumed_run_ends_as_an_uninterrupted_one()
    {
        // 15 training images in batches of 2: 8 steps an epoch, a progress line after each.
        string[] flags =
        [
            "--data", TrainingFixture.Tree, "--validation-fraction", "0.25", "--channels", "1", "--image-size", "16",
            "--epochs", "4", "--batch-size", "2", "--threads", "1", "--checkpoint-every", "1", "--log-every", "1",
        ];
        string tmp = temp.File("tmp");
        Directory.CreateDirectory(tmp);
        string reference = temp.File("reference"), killed = temp.File("killed");
        using (var run = CctProcess.Start(tmp, ["train", .. flags, "--output", reference]))
            Assert.True(run.WaitForExit() == 0, run.Error);

        // On a heavily loaded machine the line can reach us so late that the child has already finished all four epochs:
        // then nothing was killed, and the run is repeated (at most three times).
        bool killedMidRun = false;
        for (int attempt = 0; attempt < 3 && !killedMidRun; attempt++)
        {
            if (Directory.Exists(killed))
                Directory.Delete(killed, recursive: true);
            using var run = CctProcess.Start(tmp, ["train", .. flags, "--output", killed]);
            // Epoch 1's checkpoint is written before epoch 2 starts, so when step 2 of epoch 2 is reported it exists, and
            // six steps, a validation pass and a checkpoint write lie between the kill and the end of the epoch.
            var line = run.WaitForLine(l => l.StartsWith("epoch 2/4  step 2/8", StringComparison.Ordinal));
            Assert.True(line is not null, $"no step line of epoch 2; stdout:\n{run.Output}\nstderr:\n{run.Error}");
            Assert.True(Directory.Exists(Path.Combine(killed, TrainCommandCheckpoints, "epoch-0001")));
            killedMidRun = run.Kill();
        }
        Assert.True(killedMidRun, "cct train finished before it could be killed, three times");

        // The newest complete checkpoint is intact: its state reads, and its weights and optimizer state are byte for byte those
        // the uninterrupted run wrote after the same epoch (same seed and one thread: training repeats exactly).
        string checkpoints = Path.Combine(killed, TrainCommandCheckpoints);
        string last = TrainingCheckpoint.Locate(checkpoints);
        var state = TrainingCheckpoint.ReadState(last);
        Assert.InRange(state.EpochsCompleted, 1, 3);
        Assert.Equal(state.EpochsCompleted, state.History.Epochs.Count);
        foreach (var file in new[] { "model.bin", "optimizer.bin" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(reference, TrainCommandCheckpoints, Path.GetFileName(last), file)),
                File.ReadAllBytes(Path.Combine(last, file)));
        Assert.False(File.Exists(Path.Combine(killed, "model.zip")), "the killed run got as far as saving its model");

        using (var run = CctProcess.Start(tmp, ["train", .. flags, "--output", killed, "--resume", killed]))
        {
            Assert.True(run.WaitForExit() == 0, run.Error);
            Assert.Contains($"epochs {state.EpochsCompleted + 1}..4", run.Output);
        }

        // The resumed run ends where the uninterrupted one did: the same curve (times aside), the same final weights.
        static object Curve(TrainingHistory h) => h.Epochs.Select(e =>
            (e.Epoch, e.Steps, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationTop1, e.LearningRate, e.Alpha, e.Beta)).ToArray();
        Assert.Equal(Curve(TrainingHistory.LoadCsv(Path.Combine(reference, "history.csv"))), Curve(TrainingHistory.LoadCsv(Path.Combine(killed, "history.csv"))));
        var expected = CompactTransformerModelFile.Read(Path.Combine(reference, "model.zip")).StateDict;
        var actual = CompactTransformerModelFile.Read(Path.Combine(killed, "model.zip")).StateDict;
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, value) in expected)
            Assert.True(value.Data.AsSpan().SequenceEqual(actual[key].Data), $"weights '{key}' differ");
        // Whatever the kill interrupted was cleaned up when that epoch was written again.
        Assert.Equal(["epoch-0001", "epoch-0002", "epoch-0003", "epoch-0004"],
            Directory.GetFileSystemEntries(checkpoints).Select(Path.GetFileName).Order());
    }

    private const string TrainCommandCheckpoints = "checkpoints";

    // ---- saves that fail -----------------------------------------------------------------------------------------------

    [Fact]
    public void A_write_that_throws_midway_leaves_the_old_file_byte_equal_and_no_temporary()
    {
        string path = temp.File("data.bin");
        byte[] old = [1, 2, 3, 4, 5];
        File.WriteAllBytes(path, old);

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, temporary =>
        {
            using var stream = File.Create(temporary);
            stream.Write(new byte[4096]);
            stream.Flush();
            throw new IOException("the stream failed after 4096 bytes");
        }));

        Assert.Contains("4096 bytes", e.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(temp.Path));
    }

    /// <summary>Each writer of the library, writing its own content to a path.</summary>
    public static TheoryData<string> Writers => new() { "model zip", "onnx", "history csv", "history json", "learning curve png" };

    private static Action<string> Writer(string name, CompactTransformerModel model, DataViewSchema schema) => name switch
    {
        "model zip" => path => model.Save(path, schema),
        "onnx" => model.SaveOnnx,
        "history csv" => model.History.SaveCsv,
        "history json" => model.History.SaveJson,
        "learning curve png" => path => Plotting.LearningCurvePlot.Save(model.History, path, "tiny"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_save_that_fails_leaves_the_old_file_byte_equal_and_no_partial_file(string writer)
    {
        var (model, schema) = TinyModel(epochs: 1);
        using var _ = model;
        var save = Writer(writer, model, schema);
        string path = temp.File("out");
        byte[] old = "an older file of that name"u8.ToArray();
        File.WriteAllBytes(path, old);

        using (var failing = FailingWrites.Start())
        {
            var e = Assert.Throws<IOException>(() => save(path));
            Assert.Contains("Injected failure", e.Message);
            Assert.NotEmpty(failing.Temporaries); // the writer went through a temporary, which was written in full ...
            Assert.All(failing.Temporaries, t => Assert.False(File.Exists(t), $"{t} was left behind")); // ... and removed
        }

        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(temp.Path));
        save(path); // and without the fault the same call replaces the file
        Assert.NotEqual(old, File.ReadAllBytes(path));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_save_whose_folder_path_runs_through_a_file_names_that_file_and_writes_nothing(string writer)
    {
        var (model, schema) = TinyModel(epochs: 1);
        using var _ = model;
        string blocker = temp.File("not-a-folder");
        File.WriteAllText(blocker, "a regular file");

        // Permissions do not stop root; a file where a folder must be does.
        var e = Assert.Throws<IOException>(() => Writer(writer, model, schema)(Path.Combine(blocker, "sub", "out")));

        Assert.Contains($"'{blocker}' is a file", e.Message);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(temp.Path));
        Assert.Equal("a regular file", File.ReadAllText(blocker));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void A_save_onto_a_folder_names_it_and_leaves_it_alone(string writer)
    {
        var (model, schema) = TinyModel(epochs: 1);
        using var _ = model;
        string folder = temp.File("taken");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "inside.txt"), "kept");

        var e = Assert.Throws<IOException>(() => Writer(writer, model, schema)(folder));

        Assert.Contains($"'{folder}': a folder", e.Message);
        Assert.Equal([folder], Directory.GetFileSystemEntries(temp.Path));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(folder, "inside.txt")));
    }

    [Fact]
    public void A_cct_train_whose_model_save_fails_leaves_the_previous_run_s_files_byte_equal()
    {
        // cct train saves with mlContext.Model.Save, into a temporary that replaces model.zip only when complete.
        string output = temp.File("run");
        Assert.Equal(0, CliRunner.Run(["train", .. TrainingFixture.FastFlags(epochs: 1), "--output", output]).ExitCode);
        var before = Snapshot(output);

        CliRunner.Result result;
        using (FailingWrites.Start("model.zip"))
            result = CliRunner.Run(["train", .. TrainingFixture.FastFlags(epochs: 2), "--output", output]);

        CliRunner.AssertUsageError(result, "Injected failure", "model.zip");
        Assert.Equal(before, Snapshot(output));
        Assert.Equal(before.Keys.Order(), Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order()!);
    }

    [Fact]
    public void Saving_a_model_that_cannot_be_saved_leaves_the_old_zip_byte_equal()
    {
        // Encoded image bytes have no stock decoding transform, so such a model refuses to be saved as stock transforms.
        var ml = new MLContext(seed: 1);
        var rows = FashionMnist20.Rows.Select(r => new PathRow { ImagePath = r.Path, Label = r.LabelName }).ToArray();
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadRawImageBytes("Features", FashionMnist20.Root, nameof(PathRow.ImagePath))).Fit(raw).Transform(raw);
        var options = SyntheticImages.TinyOptions(epochs: 1);
        (options.Channels, options.ImageHeight, options.ImageWidth) = (1, 8, 8);
        using var model = ml.MulticlassClassification.Trainers.CompactTransformer(options).Fit(data);
        string path = temp.File("model.zip");
        byte[] old = "an earlier model"u8.ToArray();
        File.WriteAllBytes(path, old);

        var e = Assert.Throws<InvalidOperationException>(() => model.Save(path, data.Schema));

        Assert.Contains("encoded image bytes", e.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(temp.Path));
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    [Fact]
    public void A_checkpoint_write_that_fails_leaves_the_previous_checkpoint_of_that_epoch_untouched()
    {
        string root = temp.File("checkpoints");
        var settings = new TrainingSettings { Epochs = 1, BatchSize = 8, Seed = 2, Threads = 1, CheckpointEvery = 1, CheckpointFolder = root };
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(network, settings).Run(QuadrantImages.Create(16, seed: 1));
        string epoch = Path.Combine(root, "epoch-0001");
        var before = Snapshot(epoch);

        // Another run writes epoch 1 again, with other weights, and fails at the last moment.
        using var other = QuadrantImages.TinyNetwork(seed: 4);
        using (var failing = FailingWrites.Start())
        {
            var e = Assert.Throws<IOException>(() => new CctTrainingLoop(other, settings with { Seed = 3 }).Run(QuadrantImages.Create(16, seed: 1)));
            Assert.Contains("Injected failure", e.Message);
            Assert.Single(failing.Temporaries);
        }

        Assert.Equal(before, Snapshot(epoch));
        Assert.Equal(["epoch-0001"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        // The checkpoint still resumes.
        Assert.Equal(1, TrainingCheckpoint.ReadState(root).EpochsCompleted);
    }

    [Fact]
    public void A_checkpoint_folder_that_is_a_file_fails_training_naming_it()
    {
        string blocker = temp.File("checkpoints");
        File.WriteAllText(blocker, "a regular file");
        var settings = new TrainingSettings { Epochs = 1, BatchSize = 8, Seed = 2, Threads = 1, CheckpointEvery = 1, CheckpointFolder = blocker };
        using var network = QuadrantImages.TinyNetwork(seed: 3);

        var e = Assert.Throws<IOException>(() => new CctTrainingLoop(network, settings).Run(QuadrantImages.Create(16, seed: 1)));

        Assert.Contains($"'{blocker}' is a file", e.Message);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void A_killed_checkpoint_write_leaves_a_temporary_that_the_next_write_of_that_epoch_removes()
    {
        string root = temp.File("checkpoints");
        // What a process killed while writing epoch 1 leaves: a hidden temporary folder, partly written.
        string leftover = Path.Combine(root, ".epoch-0001.0123456789abcdef0123456789abcdef.tmp");
        Directory.CreateDirectory(leftover);
        File.WriteAllBytes(Path.Combine(leftover, "model.bin"), new byte[100]);
        Assert.Throws<FileNotFoundException>(() => TrainingCheckpoint.Locate(root)); // not taken for a checkpoint

        var settings = new TrainingSettings { Epochs = 1, BatchSize = 8, Seed = 2, Threads = 1, CheckpointEvery = 1, CheckpointFolder = root };
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(network, settings).Run(QuadrantImages.Create(16, seed: 1));

        Assert.Equal(["epoch-0001"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    // ---- cancellation --------------------------------------------------------------------------------------------------

    /// <summary>64 training images in batches of 16: 4 steps an epoch.</summary>
    private const int StepsPerEpoch = 4;

    [Theory]
    [InlineData(1)] // the first step
    [InlineData(StepsPerEpoch)] // the last step of an epoch, before its validation pass
    [InlineData(StepsPerEpoch + 2)] // inside the second epoch
    public void Cancelling_Fit_at_step_k_stops_within_one_batch_and_returns_a_model_that_scores(int k)
    {
        using var run = new CancellingRun(epochs: 10, k);

        using var model = new CompactTransformerEstimator(run.Options).Fit(run.Train, run.Validation, run.Cancel.Token);

        Assert.InRange(run.Steps, k, k + 1);
        // Only epochs trained and validated in full are recorded.
        Assert.Equal((k - 1) / StepsPerEpoch, model.History.Epochs.Count);
        AssertScores(model, run.Validation, 16);
    }

    [Fact]
    public async Task Cancelling_a_search_mid_trial_stops_within_one_batch_and_returns_the_best_trial_so_far()
    {
        // Trial 1 trains 2 epochs (8 steps); the search is cancelled at trial 2's third step.
        const int k = 2 * StepsPerEpoch + 3;
        using var run = new CancellingRun(epochs: 2, k);

        var result = await run.Search();
        using var best = result.BestModel;

        Assert.InRange(run.Steps, k, k + 1);
        Assert.Equal(SearchStopReason.Cancelled, result.StopReason);
        Assert.Equal(1, result.BestTrial.TrialId);
        Assert.Single(result.Trials); // the stopped trial is not recorded
        AssertScores(best, run.Validation, 16);
    }

    [Fact]
    public async Task Cancelling_a_search_before_any_trial_completed_throws_OperationCanceledException_within_one_batch()
    {
        using var run = new CancellingRun(epochs: 2, k: 2);

        // The documented outcome: no trial finished, so there is no model to return.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(run.Search);

        Assert.InRange(run.Steps, 2, 3);
    }

    /// <summary>
    /// 64 training rows (<see cref="StepsPerEpoch"/> steps of 16) and 16 validation rows, with tiny options whose step
    /// callback counts the steps and cancels <see cref="Cancel"/> at step k.
    /// </summary>
    private sealed class CancellingRun : IDisposable
    {
        private readonly MLContext ml = new(seed: 1);
        private int steps;

        public CancellingRun(int epochs, int k)
        {
            Train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(16 * StepsPerEpoch, seed: 1));
            Validation = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(16, seed: 2));
            Options = SyntheticImages.TinyOptions(epochs);
            Options.StepCallbackEvery = 1;
            Options.StepCallback = _ =>
            {
                if (Interlocked.Increment(ref steps) == k)
                    Cancel.Cancel();
            };
        }

        public IDataView Train { get; }

        public IDataView Validation { get; }

        public CompactTransformerOptions Options { get; }

        public CancellationTokenSource Cancel { get; } = new();

        public int Steps => Volatile.Read(ref steps);

        /// <summary>A random search of up to 10 two-epoch trials over <see cref="TinySearchSpace"/>, cancelled by <see cref="Cancel"/>.</summary>
        public Task<CompactTransformerSearchResult> Search() => ml.CreateCompactTransformerExperiment(Options)
            .SetDataset(Train, Validation)
            .SetSearchSpace<TinySearchSpace>()
            .SetRandomSearchTuner(epochs: 2)
            .SetMaxTrials(10)
            .RunAsync(Cancel.Token);

        public void Dispose() => Cancel.Dispose();
    }

    // ---- helpers -------------------------------------------------------------------------------------------------------

    /// <summary>A tiny model trained on synthetic rows, and the schema it scores.</summary>
    internal static (CompactTransformerModel Model, DataViewSchema Schema) TinyModel(int epochs)
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        return (new CompactTransformerEstimator(SyntheticImages.TinyOptions(epochs)).Fit(train), train.Schema);
    }

    /// <summary>The model scores <paramref name="data"/>: one probability vector per row, and PredictedLabel is its argmax.</summary>
    internal static void AssertScores(CompactTransformerModel model, IDataView data, int rows)
    {
        var scored = model.Transform(data);
        var scores = scored.GetColumn<float[]>(DefaultColumns.Score).ToArray();
        var predicted = scored.GetColumn<uint>(DefaultColumns.PredictedLabel).ToArray();
        Assert.Equal(rows, scores.Length);
        for (int i = 0; i < rows; i++)
        {
            Assert.Equal(1.0, scores[i].Sum(), 4);
            Assert.Equal((uint)(Array.IndexOf(scores[i], scores[i].Max()) + 1), predicted[i]);
        }
    }
}
