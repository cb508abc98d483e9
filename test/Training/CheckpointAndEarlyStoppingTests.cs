using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

[Collection(TorchGlobalStateCollection.Name)]
public sealed class CheckpointAndEarlyStoppingTests : IDisposable
{
    private static readonly ImageDataset Train = QuadrantImages.Create(128, seed: 1);
    private static readonly ImageDataset Validation = QuadrantImages.Create(48, seed: 2);
    private readonly string folder = Directory.CreateTempSubdirectory("cct-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // 4 steps per epoch; every source of randomness on: policy, crop, flip, erasing, mixup / CutMix, attention dropout, drop path.
    private static TrainingSettings Settings { get; } = new()
    {
        Epochs = 3,
        BatchSize = 32,
        LearningRate = 3e-3,
        WarmupEpochs = 0.5,
        MinLearningRate = 1e-4,
        WeightDecay = 0.01,
        Threads = 1,
        Seed = 21,
        Device = TrainingDevice.Cpu,
        AugmentationPolicy = AugmentationPolicy.RandAugment,
        RandomCropPadding = 1,
        HorizontalFlip = true,
        RandomErasingProbability = 0.25,
        MixupAlpha = 0.8,
        CutMixAlpha = 1.0,
    };

    private static float[] Weights(CctNetwork network) => network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();

    private static float[] CheckpointWeights(string checkpoint)
    {
        using var network = QuadrantImages.TinyNetwork(seed: 99);
        network.load(Path.Combine(checkpoint, "model.bin"));
        return Weights(network);
    }

    [Fact]
    public void AResumedRunEndsBitwiseWhereAnUninterruptedOneDoes()
    {
        using var whole = QuadrantImages.TinyNetwork(seed: 3);
        var uninterrupted = new CctTrainingLoop(whole, Settings).Run(Train, Validation);

        // The interrupted run writes a checkpoint every 2 epochs and is cancelled early in epoch 3.
        using var interrupted = QuadrantImages.TinyNetwork(seed: 3);
        using var cancel = new CancellationTokenSource();
        var checkpointing = Settings with
        {
            CheckpointEvery = 2,
            CheckpointFolder = folder,
            MixingSchedule = MixingSchedule.From((_, step) =>
            {
                if (step == 9)
                    cancel.Cancel();
                return (0, 1);
            }),
        };
        var first = new CctTrainingLoop(interrupted, checkpointing).Run(Train, Validation, cancellationToken: cancel.Token);
        Assert.True(first.Cancelled);
        Assert.Equal(["epoch-0002"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName)); // no temporary left behind
        Assert.True(File.Exists(Path.Combine(folder, "epoch-0002", "optimizer.bin")));

        // A network with other weights resumes from the folder (its latest checkpoint is taken).
        using var resumed = QuadrantImages.TinyNetwork(seed: 7);
        var rest = new CctTrainingLoop(resumed, Settings with { ResumeFrom = folder }).Run(Train, Validation);

        Assert.Equal(Weights(whole), Weights(resumed));
        Assert.Equal(uninterrupted.Steps, rest.Steps);
        Assert.Equal(uninterrupted.History.Epochs.Select(e => (e.Epoch, e.Steps, e.TrainLoss, e.ValidationLoss, e.LearningRate)),
            rest.History.Epochs.Select(e => (e.Epoch, e.Steps, e.TrainLoss, e.ValidationLoss, e.LearningRate)));
    }

    [Fact]
    public void ResumingWithOtherSettingsIsRefusedNamingTheDifference()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        new CctTrainingLoop(network, Settings with { Epochs = 1, CheckpointEvery = 1, CheckpointFolder = folder }).Run(Train, null);
        var e = Assert.Throws<InvalidOperationException>(() =>
            new CctTrainingLoop(network, Settings with { Epochs = 1, LearningRate = 1e-3, Threads = 2, ResumeFrom = folder }).Run(Train, null));
        Assert.Contains("LearningRate", e.Message);
        Assert.DoesNotContain("Threads", e.Message);
        Assert.Throws<FileNotFoundException>(() => TrainingCheckpoint.Locate(Directory.CreateTempSubdirectory("cct-empty-").FullName));
    }

    [Fact]
    public void PatienceStopsTheRunAndTheBestEpochsWeightsAreKept()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        // No later epoch can beat the first by a whole unit of accuracy: the run stops after 1 + patience epochs.
        var settings = Settings with
        {
            Epochs = 6, EarlyStoppingMetric = EarlyStoppingMetric.ValidationTop1, EarlyStoppingPatience = 2, EarlyStoppingMinDelta = 1.0,
            CheckpointEvery = 1, CheckpointFolder = folder,
        };
        var result = new CctTrainingLoop(network, settings).Run(Train, Validation);
        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.History.Epochs.Count);
        Assert.Equal(12, result.Steps);
        Assert.Equal(1, result.BestEpoch);
        Assert.Equal(CheckpointWeights(Path.Combine(folder, "epoch-0001")), Weights(network));
        Assert.NotEqual(CheckpointWeights(Path.Combine(folder, "epoch-0003")), Weights(network));
    }

    [Fact]
    public void TheBestEpochByValidationLossIsRestoredAtTheEnd()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = Settings with
        {
            Epochs = 4, LearningRate = 2e-2, EarlyStoppingMetric = EarlyStoppingMetric.ValidationLoss, CheckpointEvery = 1, CheckpointFolder = folder,
        };
        var result = new CctTrainingLoop(network, settings).Run(Train, Validation);
        var epochs = result.History.Epochs;
        int best = epochs.MinBy(e => e.ValidationLoss!.Value)!.Epoch;
        Assert.Equal(best, result.BestEpoch);
        Assert.False(result.StoppedEarly);
        Assert.Equal(CheckpointWeights(Path.Combine(folder, TrainingCheckpoint.FolderName(best))), Weights(network));
    }

    [Fact]
    public void CancellationReturnsTheBestEpochSoFar()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        using var cancel = new CancellationTokenSource();
        var settings = Settings with
        {
            Epochs = 5, EarlyStoppingMetric = EarlyStoppingMetric.ValidationLoss, CheckpointEvery = 1, CheckpointFolder = folder,
            MixingSchedule = MixingSchedule.From((_, step) =>
            {
                if (step == 10) // in epoch 3
                    cancel.Cancel();
                return (0, 1);
            }),
        };
        var result = new CctTrainingLoop(network, settings).Run(Train, Validation, cancellationToken: cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.History.Epochs.Count);
        int best = result.History.Epochs.MinBy(e => e.ValidationLoss!.Value)!.Epoch;
        Assert.Equal(best, result.BestEpoch);
        Assert.Equal(CheckpointWeights(Path.Combine(folder, TrainingCheckpoint.FolderName(best))), Weights(network));
    }

    [Fact]
    public void WithoutValidationDataNoEpochIsPickedAndTheLastWeightsStay()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = Settings with { Epochs = 2, EarlyStoppingMetric = EarlyStoppingMetric.ValidationLoss, CheckpointEvery = 1, CheckpointFolder = folder };
        var result = new CctTrainingLoop(network, settings).Run(Train, null);
        Assert.Null(result.BestEpoch);
        Assert.Equal(CheckpointWeights(Path.Combine(folder, "epoch-0002")), Weights(network));
    }

    [Fact]
    public void CpuIsAlwaysAvailableAndCudaWithoutACudaLibtorchSaysWhatToInstall()
    {
        Assert.Equal(DeviceType.CPU, TrainingDevices.Resolve(TrainingDevice.Cpu).type);
        if (cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, TrainingDevices.Resolve(TrainingDevice.Auto).type);
            return;
        }
        Assert.Equal(DeviceType.CPU, TrainingDevices.Resolve(TrainingDevice.Auto).type);
        var e = Assert.Throws<InvalidOperationException>(() => TrainingDevices.Resolve(TrainingDevice.Cuda));
        Assert.Contains("TorchSharp-cuda-linux", e.Message);
        Assert.Contains("libtorch-cuda", e.Message);
    }

    [Fact]
    public void PoliciesRefuseDataThatAreNotEightBit()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var floats = ImageDataset.FromFloats(Enumerable.Repeat(0.5f, 4 * 64).ToArray(), [0, 1, 2, 3], 1, 8, 8, QuadrantImages.ClassNames);
        var e = Assert.Throws<ArgumentException>(() => new CctTrainingLoop(network, Settings).Run(floats, null));
        Assert.Contains("8-bit", e.Message);
    }
}
