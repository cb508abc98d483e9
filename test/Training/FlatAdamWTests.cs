using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>The flat-buffer AdamW against TorchSharp's per-parameter AdamW: same steps, same state, shared storage.</summary>
[Collection(TorchGlobalStateCollection.Name)]
public sealed class FlatAdamWTests : IDisposable
{
    private static readonly ImageDataset Data = QuadrantImages.Create(64, seed: 1);
    private static readonly TrainingSettings Settings = new() { LearningRate = 3e-3, WeightDecay = 0.05, AdamBeta2 = 0.99 };
    private readonly string folder = Directory.CreateTempSubdirectory("cct-flat-adamw-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static float[] Weights(CctNetwork network) => network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    // A few steps of plain cross-entropy on fixed batches; only the optimizer differs between calls.
    private static void Steps(CctNetwork network, OptimizerHelper optimizer, int steps)
    {
        using var images = tensor(Data.BytePixels.ToArray().Select(b => b / 255f).ToArray(), [Data.Count, 1, 8, 8]);
        using var labels = tensor(Data.Labels.ToArray().Select(l => (long)l).ToArray());
        network.eval(); // no dropout: both runs see the same gradients
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(network.call(images), labels).backward();
            optimizer.step();
        }
    }

    [Fact]
    public void StepsLikeThePerParameterAdamW()
    {
        using var reference = QuadrantImages.TinyNetwork(seed: 3);
        using var flat = QuadrantImages.TinyNetwork(seed: 3);
        var (perParameter, _) = OptimizerGroups.CreateAdamW(reference, Settings);
        var (flatAdamW, _) = OptimizerGroups.CreateAdamW(flat, Settings, flat: true);
        using (perParameter)
        using (flatAdamW)
        {
            Assert.IsType<FlatAdamW>(flatAdamW);
            Steps(reference, perParameter, 5);
            Steps(flat, flatAdamW, 5);
        }
        var expected = Weights(reference);
        var actual = Weights(flat);
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / (Math.Abs(e) + 1e-3)).Max();
        Assert.True(worst < 1e-5, $"largest relative difference {worst:E2}");
        Assert.NotEqual(Weights(QuadrantImages.TinyNetwork(seed: 3)), actual); // it did train
    }

    [Fact]
    public void ParametersAndGradientsLiveInTheFlatBuffers()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var before = Weights(network);
        var (optimizer, _) = OptimizerGroups.CreateAdamW(network, Settings, flat: true);
        using var _ = optimizer;
        var adamW = (FlatAdamW)optimizer;
        var trainable = network.parameters().Where(p => p.requires_grad).ToArray();

        Assert.Equal(trainable.Sum(p => p.numel()), adamW.Count);
        Assert.Equal(before, Weights(network)); // the values moved, unchanged
        Assert.Equal(trainable.SelectMany(p => p.data<float>().ToArray()), adamW.Values.data<float>().ToArray());
        using (no_grad())
            adamW.Values.narrow(0, 0, 1).fill_(42f);
        Assert.Equal(42f, trainable[0].data<float>()[0]); // same storage

        Steps(network, optimizer, 1);
        Assert.Equal(trainable.SelectMany(p => p.grad!.data<float>().ToArray()), adamW.Gradients.data<float>().ToArray());
        Assert.True(adamW.Gradients.abs().sum().item<float>() > 0);
        optimizer.zero_grad();
        Assert.Equal(0f, adamW.Gradients.abs().sum().item<float>());
        Assert.All(trainable, p => Assert.Equal(0f, p.grad!.abs().sum().item<float>()));
    }

    [Fact]
    public void ItsStateFilesAreInterchangeableWithThePerParameterOnes()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var (flat, _) = OptimizerGroups.CreateAdamW(network, Settings, flat: true);
        using var _ = flat;
        Steps(network, flat, 3);
        string path = Path.Combine(folder, "flat.bin");
        OptimizerStateFile.Save(flat, path);

        using var other = QuadrantImages.TinyNetwork(seed: 3);
        var (perParameter, _) = OptimizerGroups.CreateAdamW(other, Settings);
        using var __ = perParameter;
        OptimizerStateFile.Read(path, perParameter).LoadInto(perParameter);
        string again = Path.Combine(folder, "again.bin");
        OptimizerStateFile.Save(perParameter, again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
        // TorchSharp's own reader takes the file as an AdamW's.
        using var plain = QuadrantImages.TinyNetwork(seed: 3);
        var (plainAdamW, _) = OptimizerGroups.CreateAdamW(plain, Settings);
        using var ___ = plainAdamW;
        plainAdamW.load_state_dict(path);

        // And back: a fresh flat optimizer reads the moments into its buffers.
        using var third = QuadrantImages.TinyNetwork(seed: 3);
        var (reloaded, _) = OptimizerGroups.CreateAdamW(third, Settings, flat: true);
        using var ____ = reloaded;
        OptimizerStateFile.Read(again, reloaded).LoadInto(reloaded);
        string thirdPath = Path.Combine(folder, "third.bin");
        OptimizerStateFile.Save(reloaded, thirdPath);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(thirdPath));
        Assert.True(new FileInfo(path).Length > 4 * ((FlatAdamW)flat).Count, "both moments of every parameter are in the file");
    }

    [Fact]
    public void HeadAndBodyGroupsKeepTheirOwnRates()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = Settings with { BodyLearningRateMultiplier = 0 };
        var (optimizer, multipliers) = OptimizerGroups.CreateAdamW(network, settings, flat: true);
        using var _ = optimizer;
        Assert.Equal([0.0, 1.0], multipliers);
        var body = network.named_parameters().Where(p => !p.name.StartsWith(OptimizerGroups.HeadPrefix, StringComparison.Ordinal)).ToArray();
        var head = network.named_parameters().Where(p => p.name.StartsWith(OptimizerGroups.HeadPrefix, StringComparison.Ordinal)).ToArray();
        var bodyBefore = body.SelectMany(p => p.parameter.data<float>().ToArray()).ToArray();
        var headBefore = head.SelectMany(p => p.parameter.data<float>().ToArray()).ToArray();
        Steps(network, optimizer, 2);
        Assert.Equal(bodyBefore, body.SelectMany(p => p.parameter.data<float>().ToArray())); // rate 0 leaves a weight as it is
        Assert.NotEqual(headBefore, head.SelectMany(p => p.parameter.data<float>().ToArray()));
    }

    [Fact]
    public void ClippingTheFlatGradientMatchesClipGradNorm()
    {
        using var a = QuadrantImages.TinyNetwork(seed: 3);
        using var b = QuadrantImages.TinyNetwork(seed: 3);
        var (flat, _) = OptimizerGroups.CreateAdamW(b, Settings, flat: true);
        using var _ = flat;
        using var images = tensor(Data.BytePixels.ToArray().Select(v => v / 255f).ToArray(), [Data.Count, 1, 8, 8]);
        using var labels = tensor(Data.Labels.ToArray().Select(l => (long)l).ToArray());
        a.eval();
        b.eval();
        nn.functional.cross_entropy(a.call(images), labels).backward();
        nn.functional.cross_entropy(b.call(images), labels).backward();
        var parameters = a.parameters().Where(p => p.requires_grad).ToArray();
        double expectedNorm = nn.utils.clip_grad_norm_(parameters, 0.1);
        using var norm = ((FlatAdamW)flat).ClipGradientNorm(0.1);
        Assert.Equal(expectedNorm, norm.item<float>(), 4);
        var expected = parameters.SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();
        var actual = ((FlatAdamW)flat).Gradients.data<float>().ToArray();
        Assert.All(expected.Zip(actual), pair => Assert.True(Math.Abs(pair.First - pair.Second) <= 1e-6 + 1e-4 * Math.Abs(pair.First)));
    }

    [Fact]
    public void AFlatRunResumesBitwiseWhereAnUninterruptedOneEnds()
    {
        var settings = new TrainingSettings
        {
            Epochs = 3, BatchSize = 16, LearningRate = 3e-3, WarmupEpochs = 0.5, Threads = 1, Seed = 8,
            RandomCropPadding = 1, HorizontalFlip = true, FlatOptimizer = true,
        };
        using var whole = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(whole, settings).Run(Data, null);

        using var first = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(first, settings with { Epochs = 3, CheckpointEvery = 1, CheckpointFolder = folder }).Run(Data, null);
        Directory.Delete(Path.Combine(folder, "epoch-0003"), recursive: true);
        using var resumed = QuadrantImages.TinyNetwork(seed: 77);
        var result = new CctTrainingLoop(resumed, settings with { ResumeFrom = folder }).Run(Data, null);

        Assert.Equal(3, result.History.Epochs.Count);
        Assert.Equal(Weights(whole), Weights(resumed));
    }

    [Fact]
    public void ACheckpointMovesBetweenTheFlatAndThePerParameterOptimizer()
    {
        // As when a run begun on a GPU (flat, bfloat16) finishes on the CPU (per parameter, float32): the device-side
        // settings are not part of what a checkpoint must match.
        var settings = new TrainingSettings { Epochs = 2, BatchSize = 16, LearningRate = 3e-3, WarmupEpochs = 0.5, Threads = 1, Seed = 8 };
        using var whole = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(whole, settings).Run(Data, null);

        using var first = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(first, settings with { Epochs = 2, FlatOptimizer = true, CheckpointEvery = 1, CheckpointFolder = folder }).Run(Data, null);
        Directory.Delete(Path.Combine(folder, "epoch-0002"), recursive: true);
        using var resumed = QuadrantImages.TinyNetwork(seed: 77);
        var result = new CctTrainingLoop(resumed, settings with { FlatOptimizer = false, ResumeFrom = folder, MixedPrecision = MixedPrecision.None }).Run(Data, null);

        Assert.Equal(2, result.History.Epochs.Count);
        var expected = Weights(whole);
        double worst = expected.Zip(Weights(resumed), (a, b) => Math.Abs(a - b) / (Math.Abs(a) + 1e-3)).Max();
        Assert.True(worst < 1e-4, $"resumed weights differ by {worst:E2} (relative)");
    }

    [Fact]
    public void TheEstimatorOptionsReachTheLoop()
    {
        var options = new CompactTransformerOptions { MixedPrecision = MixedPrecision.BFloat16, FlatOptimizer = true, Device = TrainingDevice.Cpu };
        var settings = CompactTransformerEstimator.TrainingSettingsFrom(options, 0, 1);
        Assert.Equal((MixedPrecision.BFloat16, (bool?)true, TrainingDevice.Cpu), (settings.MixedPrecision, settings.FlatOptimizer, settings.Device));
        Assert.Null(CompactTransformerEstimator.TrainingSettingsFrom(new CompactTransformerOptions(), 0, 1).FlatOptimizer);
    }
}
