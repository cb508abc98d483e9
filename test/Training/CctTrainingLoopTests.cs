using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

[Collection(TorchGlobalStateCollection.Name)]
public class CctTrainingLoopTests(ITestOutputHelper output)
{
    private static readonly Microsoft.ML.CompactTransformer.Data.ImageDataset Train = QuadrantImages.Create(256, seed: 1);
    private static readonly Microsoft.ML.CompactTransformer.Data.ImageDataset Validation = QuadrantImages.Create(96, seed: 2);

    private static TrainingSettings Quick { get; } = new()
    {
        Epochs = 5,
        BatchSize = 32,
        LearningRate = 3e-3,
        WarmupEpochs = 0.5,
        MinLearningRate = 1e-4,
        WeightDecay = 0.01,
        Threads = 1,
        Seed = 5,
    };

    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Items { get; } = [];
        public void Report(T value) => Items.Add(value); // synchronous, unlike Progress<T>
    }

    [Fact]
    public void LearnsTheBrightQuadrantWellAboveChance()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var progress = new Recorder<EpochMetrics>();
        var result = new CctTrainingLoop(network, Quick).Run(Train, Validation, progress);

        var epochs = result.History.Epochs;
        output.WriteLine(result.History.ToCsv());
        Assert.False(result.Cancelled);
        Assert.Equal(5 * 8, result.Steps);
        Assert.Equal(epochs, progress.Items);
        Assert.Equal([1, 2, 3, 4, 5], epochs.Select(e => e.Epoch));
        Assert.Equal([8L, 16, 24, 32, 40], epochs.Select(e => e.Steps));
        // Chance is 0.25; the loose bound on the last epoch leaves room for the jitter of a high learning rate.
        Assert.True(epochs[^1].ValidationTop1 >= 0.75, $"last validation top-1 {epochs[^1].ValidationTop1} (chance 0.25)");
        Assert.True(epochs.Max(e => e.ValidationTop1) >= 0.9, "validation top-1 never reached 0.9");
        Assert.Equal(1.0, epochs[^1].ValidationTop5); // 4 classes: top-5 holds them all
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss, "training loss did not fall");
        Assert.True(epochs[^1].ValidationLoss < epochs[0].ValidationLoss, "validation loss did not fall");
        Assert.Equal(1e-4, epochs[^1].LearningRate); // the cosine ends on the floor
        Assert.All(epochs, e => Assert.True(e.ImagesPerSecond > 0 && e.Seconds > 0));
        // Normalisation was computed from the training set (bytes scaled by 1/255) and is handed back.
        Assert.Equal(1.0 / 255, result.Normalization.Scale);
        Assert.InRange(result.Normalization.Mean[0], 0.2, 0.5);
        Assert.True(network.training, "the loop leaves the network in training mode after validating");
    }

    [Fact]
    public void SameSeedAndThreadsGiveBitwiseIdenticalRuns()
    {
        // Augmentation and attention dropout on: every source of randomness is exercised.
        var settings = Quick with { Epochs = 2, RandomCropPadding = 1, HorizontalFlip = true, Seed = 11 };
        var (first, firstWeights) = TrainFresh(settings);
        var (second, secondWeights) = TrainFresh(settings);
        var (otherSeed, _) = TrainFresh(settings with { Seed = 12 });

        Assert.Equal(Losses(first), Losses(second)); // exact double equality
        Assert.Equal(firstWeights, secondWeights);
        Assert.NotEqual(Losses(first), Losses(otherSeed));

        static double[] Losses(TrainingResult r) =>
            r.History.Epochs.SelectMany(e => new[] { e.TrainLoss, e.TrainAccuracy, e.ValidationLoss!.Value, e.ValidationTop1!.Value }).ToArray();
    }

    [Fact]
    public void OnTheCpuBatchesAreAssembledImageByImageAndTheOptimizerIsPerParameter()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var result = new CctTrainingLoop(network, Quick with { Epochs = 1, RandomCropPadding = 1, Device = TrainingDevice.Cpu }).Run(Train, null);
        Assert.Equal("cpu", result.Device);
        Assert.False(result.BatchesOnDevice);
    }

    [Fact]
    public void TheDevicePipelineTrainsBitwiseLikeThePerImagePath()
    {
        // Crop and flip as tensor ops on the device, fed from chunks, must not change a single bit of a CPU run,
        // nor must the flat optimizer change more than rounding: the CUDA path is the same training.
        var settings = Quick with { Epochs = 2, RandomCropPadding = 1, HorizontalFlip = true, Seed = 11 };
        var (perImage, perImageWeights) = TrainFresh(settings);
        var (onDevice, onDeviceWeights) = TrainFresh(settings, batchesOnDevice: true);
        Assert.False(perImage.BatchesOnDevice);
        Assert.True(onDevice.BatchesOnDevice);
        Assert.Equal(perImageWeights, onDeviceWeights);
        Assert.Equal(perImage.History.Epochs.Select(e => e.TrainLoss), onDevice.History.Epochs.Select(e => e.TrainLoss));

        var (flat, flatWeights) = TrainFresh(settings with { FlatOptimizer = true }, batchesOnDevice: true);
        double worst = perImageWeights.Zip(flatWeights, (a, b) => Math.Abs(a - b) / (Math.Abs(a) + 1e-3)).Max();
        Assert.True(worst < 1e-4, $"flat optimizer moved a weight by {worst:E2} (relative)");
        Assert.Equal(perImage.History.Epochs[^1].ValidationTop1!.Value, flat.History.Epochs[^1].ValidationTop1!.Value, 2);
    }

    [Fact]
    public void TheDevicePathDisposesEveryTensorItCreates()
    {
        // Batches from chunks, the flat optimizer, bfloat16 autocast, clipping and validation: nothing outlives the run.
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = Quick with
        {
            Epochs = 2, RandomCropPadding = 1, HorizontalFlip = true, FlatOptimizer = true, MixedPrecision = MixedPrecision.BFloat16,
            GradientClipNorm = 1, EarlyStoppingMetric = EarlyStoppingMetric.ValidationTop1,
        };
        var statistics = TorchSharp.DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;
        var result = new CctTrainingLoop(network, settings) { BatchesOnDevice = true }.Run(Train, Validation);
        Assert.True(result.BatchesOnDevice);
        // The count is this thread's: tests on other threads do not change it.
        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }

    private static (TrainingResult Result, float[] Weights) TrainFresh(TrainingSettings settings, bool? batchesOnDevice = null)
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var result = new CctTrainingLoop(network, settings) { BatchesOnDevice = batchesOnDevice }.Run(Train, Validation);
        var weights = network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        return (result, weights);
    }

    [Fact]
    public void CancellationStopsAtTheNextBatchBoundary()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        using var cancel = new CancellationTokenSource();
        // The hook runs before each step; asking to stop during step 3 lets step 3 finish and no other.
        var settings = Quick with
        {
            MixingSchedule = MixingSchedule.From((_, step) =>
            {
                if (step == 3)
                    cancel.Cancel();
                return (0, 1);
            }),
        };
        var result = new CctTrainingLoop(network, settings).Run(Train, Validation, cancellationToken: cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(4, result.Steps);
        Assert.Empty(result.History.Epochs); // the first epoch (8 steps) never completed
    }

    [Fact]
    public void AnAlreadyCancelledRunLeavesTheWeightsAlone()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var before = network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        var result = new CctTrainingLoop(network, Quick).Run(Train, null, cancellationToken: new CancellationToken(canceled: true));
        Assert.True(result.Cancelled);
        Assert.Equal(0, result.Steps);
        Assert.Equal(before, network.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray());
    }

    [Fact]
    public void TheStepCallbackReportsEveryNthStepAndTheLastOfEachEpoch()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var calls = new List<StepProgress>();
        // 256 images in batches of 48: 6 steps per epoch, the last one 16 images.
        var settings = Quick with { Epochs = 2, BatchSize = 48, StepCallback = calls.Add, StepCallbackEvery = 4 };
        var result = new CctTrainingLoop(network, settings).Run(Train, null);

        Assert.Equal([(1, 4), (1, 6), (2, 4), (2, 6)], calls.Select(c => (c.Epoch, c.Step)));
        Assert.All(calls, c => Assert.Equal((2, 6), (c.Epochs, c.StepsPerEpoch)));
        // At the epoch's last step the running loss is the epoch's mean training loss.
        Assert.Equal(result.History.Epochs[0].TrainLoss, calls[1].RunningLoss, 12);
        Assert.Equal(result.History.Epochs[1].TrainLoss, calls[3].RunningLoss, 12);
        Assert.Equal(result.History.Epochs[1].LearningRate, calls[3].LearningRate);
        Assert.True(calls[0].RunningLoss > 0);
    }

    [Fact]
    public void TheMixingScheduleIsAppliedBeforeEveryStep()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var calls = new List<(int Epoch, long Step)>();
        var seenByForward = new List<double>();
        var settings = Quick with
        {
            Epochs = 2,
            BatchSize = 64, // 4 steps per epoch
            MixingSchedule = MixingSchedule.From((epoch, step) =>
            {
                calls.Add((epoch, step));
                seenByForward.Add(network.Mixing.Alpha); // the previous step's value is still in place here
                return (0.1 * (epoch + 1), 1 - 0.001 * step);
            }),
        };
        var result = new CctTrainingLoop(network, settings).Run(Train, null);

        Assert.Equal(Enumerable.Range(0, 8).Select(s => (s / 4, (long)s)), calls);
        Assert.Equal([0, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2], seenByForward.Select(a => Math.Round(a, 12)));
        var epochs = result.History.Epochs;
        Assert.Equal((0.1, 1 - 0.001 * 3), (epochs[0].Alpha, epochs[0].Beta));
        Assert.Equal((0.2, 1 - 0.001 * 7), (epochs[1].Alpha, epochs[1].Beta));
        Assert.Equal((0.2, 1 - 0.001 * 7), (network.Mixing.Alpha, network.Mixing.Beta));
        Assert.Null(epochs[0].ValidationTop1);
    }

    [Fact]
    public void ConstantMixingComesFromTheSettingsOrTheNetwork()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        network.Mixing.Alpha = 0.25;
        var result = new CctTrainingLoop(network, Quick with { Epochs = 1, Beta = 0.5 }).Run(Train, null);
        Assert.Equal((0.25, 0.5), (result.History.Epochs[0].Alpha, result.History.Epochs[0].Beta));
        Assert.Equal((0.25, 0.5), (network.Mixing.Alpha, network.Mixing.Beta));
    }

    [Fact]
    public void TheThreadCountIsRestoredAfterwards()
    {
        Native.TorchRuntime.EnsureInitialized();
        int original = get_num_threads();
        try
        {
            set_num_threads(2);
            using var network = QuadrantImages.TinyNetwork(seed: 3);
            new CctTrainingLoop(network, Quick with { Epochs = 1, Threads = 1 }).Run(Train, null);
            Assert.Equal(2, get_num_threads());
        }
        finally
        {
            set_num_threads(original);
        }
    }

    [Fact]
    public void DataThatDoesNotFitTheNetworkIsRejected()
    {
        using var network = new CctNetwork(QuadrantImages.TinyArchitecture with { InputChannels = 3 });
        var e = Assert.Throws<ArgumentException>(() => new CctTrainingLoop(network, Quick).Run(Train, null));
        Assert.Contains("1x8x8", e.Message);
        Assert.Throws<ArgumentException>(() => new CctTrainingLoop(network, Quick with { BatchSize = 0 }));
    }
}
