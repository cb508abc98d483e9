using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Cli;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;
using TorchSharp;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>Nothing outlives its use: temp files after Fit, Save, Load and Dispose; tensors after Fit; native memory after Dispose.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class ResourceHygieneTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string[] Entries(string folder) =>
        Directory.GetFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(folder, e)).Order().ToArray();

    [Fact]
    public void Fit_Save_Load_and_Dispose_leave_no_temporary_files()
    {
        // ML.NET writes its temporaries (the ONNX copy of a loaded model, the zip repository) under the context's TempFilePath.
        string mlTemp = temp.File("ml-temp");
        Directory.CreateDirectory(mlTemp);
        var ml = new MLContext(seed: 1) { TempFilePath = mlTemp };
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        var model = new CompactTransformerEstimator(SyntheticImages.TinyOptions(epochs: 1)).Fit(train);
        // The scoring chain reads its ONNX from a file of ours while the model lives.
        string onnx = model.ModelFile;
        Assert.True(File.Exists(onnx));

        string zip = temp.File("model.zip");
        ml.Model.Save(model, train.Schema, zip);
        model.Save(temp.File("atomic.zip"), train.Schema);
        model.SaveOnnx(temp.File("model.onnx"));
        Assert.Empty(Entries(mlTemp));
        Assert.Equal(["atomic.zip", "ml-temp", "model.onnx", "model.zip"], Entries(temp.Path));

        var loaded = ml.Model.Load(zip, out var schema);
        Assert.NotEmpty(Entries(mlTemp)); // ML.NET's copy of the ONNX model: proof that this is the folder it uses
        var scores = loaded.Transform(train).GetColumn<float[]>(DefaultColumns.Score).ToArray();
        Assert.Equal(32, scores.Length);
        (loaded as IDisposable)!.Dispose();
        Assert.Empty(Entries(mlTemp));

        // Reading our zip back for its weights writes nothing either.
        var saved = CompactTransformerModelFile.Read(zip);
        Assert.Equal(model.ClassNames, saved.ClassNames);

        model.Dispose();
        Assert.False(File.Exists(onnx), $"{onnx} outlived its model");
        model.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => model.Save(temp.File("late.zip"), schema));
        Assert.Empty(Entries(mlTemp));
    }

    [Fact]
    public void A_cct_train_and_evaluate_leave_nothing_in_their_temp_folder()
    {
        // A child process gets its own TMPDIR, so that whatever any library in it writes to the temp folder shows.
        string tmp = temp.File("tmp");
        Directory.CreateDirectory(tmp);
        string output = temp.File("run");
        using (var train = CctProcess.Start(tmp, ["train", .. TrainingFixture.FastFlags(epochs: 1), "--checkpoint-every", "1", "--output", output]))
            Assert.True(train.WaitForExit() == 0, train.Error);
        Assert.Empty(Entries(tmp).Except([OnnxRuntimeSessionFile]));

        using (var evaluate = CctProcess.Start(tmp, "evaluate", "--model", Path.Combine(output, "model.zip"), "--data", TrainingFixture.Tree))
        {
            Assert.True(evaluate.WaitForExit() == 0, evaluate.Error);
            Assert.Contains("20 images", evaluate.Output);
        }
        Assert.Empty(Entries(tmp).Except([OnnxRuntimeSessionFile]));
    }

    /// <summary>
    /// ONNX Runtime 1.31's telemetry keeps one small file of its own in the temp folder, written when its environment is
    /// created (a start time and a session id, rewritten by each process; it does not accumulate). It is not ours to delete.
    /// </summary>
    private const string OnnxRuntimeSessionFile = ".ses";

    [Fact]
    public void Fit_disposes_every_tensor_it_creates()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(32, seed: 1));
        var validation = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(16, seed: 2));
        var options = SyntheticImages.TinyOptions(epochs: 3);
        // Every part that holds tensors: validation, early stopping's best weights, checkpoints, then a resume from one.
        options.EarlyStoppingMetric = EarlyStoppingMetric.ValidationLoss;
        options.CheckpointEvery = 1;
        options.CheckpointFolder = temp.File("checkpoints");
        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;

        // Cancelled after epoch 2 of 3 ...
        using (var cancel = new CancellationTokenSource())
        {
            options.MetricsCallback = m => { if (m.Epoch == 2) cancel.Cancel(); };
            using var model = new CompactTransformerEstimator(options).Fit(train, validation, cancel.Token);
            Assert.Equal(2, model.History.Epochs.Count);
        }
        long afterFit = statistics.ThreadTotalLiveCount;
        // ... and resumed from its checkpoint to the end.
        options.MetricsCallback = null;
        options.ResumeFrom = options.CheckpointFolder;
        using (var model = new CompactTransformerEstimator(options).Fit(train, validation))
            Assert.Equal(3, model.History.Epochs.Count);
        long afterResume = statistics.ThreadTotalLiveCount;

        // The counts are this thread's: tests running on other threads do not change them.
        Assert.Equal(before, afterFit);
        Assert.Equal(before, afterResume);
    }

    [Fact]
    public void Disposing_a_model_releases_its_native_memory()
    {
        var ml = new MLContext(seed: 1);
        var rows = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(8, seed: 3));
        // About a million weights, so that an ONNX Runtime session left alive costs megabytes.
        var architecture = SyntheticImages.TinyArchitecture with
        {
            InputChannels = 1, ImageHeight = 8, ImageWidth = 8, NumClasses = 4, EmbeddingDim = 128, NumLayers = 2, MlpRatio = 2,
        };
        using var network = new CctNetwork(architecture, new ValueMixing(0, 1, AttentionScope.Both));
        // The disposed chains stay referenced, so that the garbage collector's finalizers cannot release what Dispose did not.
        var disposed = new List<(TransformerChain<ITransformer> Chain, string File)>();
        void Cycle()
        {
            // An ONNX export, an ONNX Runtime session, a scoring pass, and Dispose.
            using var model = CompactTransformerModel.FromNetwork(ml, network, SyntheticImages.ClassNames, PixelNormalization.Identity);
            disposed.Add((model.ScoringChain, model.ModelFile));
            Assert.Equal(8, model.Transform(rows).GetColumn<float[]>(DefaultColumns.Score).Count());
        }

        for (int i = 0; i < 3; i++) // warm-up: one-time allocations (ONNX Runtime's environment, ML.NET's caches)
            Cycle();
        long before = NativeBytesAfterCollection();
        const int cycles = 30;
        for (int i = 0; i < cycles; i++)
            Cycle();
        long after = NativeBytesAfterCollection();

        long growth = after - before;
        log.WriteLine($"native heap in use: {before / 1e6:F1} MB before, {after / 1e6:F1} MB after {cycles} cycles");
        // A session left alive keeps its weights and buffers, several megabytes here: 30 of them would exceed this bound
        // several times over, while small caches that grow now and then stay well inside it.
        Assert.True(growth < 16_000_000, $"native memory in use grew by {growth / 1e6:F1} MB over {cycles} create/score/dispose cycles");
        Assert.All(disposed, m => Assert.False(File.Exists(m.File), $"{m.File} outlived its model"));
        GC.KeepAlive(disposed);
    }

    private static long NativeBytesAfterCollection()
    {
        // Garbage of earlier tests is finalized now rather than during the measurement.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return NativeHeap.InUseBytes();
    }
}
