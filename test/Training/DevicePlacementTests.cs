using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>
/// Every tensor the loader, the loop and the predictor create lives on the device they are given, checked without a GPU
/// in two ways. The meta device (shapes without data) stands in for a second device where libtorch can run the ops: the
/// batch sources and the optimizer must deliver there. And for whole training runs, whose convolutions libtorch cannot
/// run on meta, TorchSharp's default device is set to meta while the run trains on the CPU it was given: a tensor created
/// without naming the device lands on meta, and the first operation that meets it and a CPU tensor throws, as such a
/// tensor would break (or silently slow down) a CUDA run.
/// </summary>
[Collection(TorchGlobalStateCollection.Name)]
public class DevicePlacementTests
{
    private static readonly ImageDataset Train = QuadrantImages.Create(80, seed: 1);
    private static readonly ImageDataset Validation = QuadrantImages.Create(24, seed: 2);
    private static readonly PixelNormalization Normalization = new(1.0 / 255, [0.3], [0.3]);

    private static TrainingSettings Settings { get; } = new()
    {
        Epochs = 2,
        BatchSize = 32, // 3 steps per epoch, the last one 16 images
        LearningRate = 3e-3,
        WarmupEpochs = 0.5,
        Threads = 1,
        Seed = 5,
        RandomCropPadding = 1,
        HorizontalFlip = true,
        Device = TrainingDevice.Cpu,
    };

    private static T WithMetaAsDefaultDevice<T>(Func<T> body)
    {
        var previous = get_default_device();
        set_default_device(META);
        try
        {
            return body();
        }
        finally
        {
            set_default_device(previous);
        }
    }

    [Fact]
    public void ATensorOnTheWrongDeviceIsCaught()
    {
        // The premises: mixing devices is an error, not a silent copy, and a factory without a device uses the default.
        Native.TorchRuntime.EnsureInitialized();
        using var onMeta = zeros([4, 4], device: META);
        using var onCpu = ones([4, 4], device: CPU);
        Assert.ThrowsAny<Exception>(() => onMeta.add(onCpu));
        using var implicitDevice = WithMetaAsDefaultDevice(() => zeros([4, 4]));
        Assert.Equal(DeviceType.META, implicitDevice.device_type);
        Assert.ThrowsAny<Exception>(() => onCpu.add(implicitDevice));
    }

    [Fact]
    public void BatchesOfBothSourcesLandOnTheDevice()
    {
        var augmentations = ImageAugmentation.For(Settings);
        using var stream = new DeviceBatchStream(Train, 32, Normalization, META, BatchCropAndFlip.From(augmentations), chunkBytes: 64 * 64);
        var withMixing = Settings with { AugmentationPolicy = AugmentationPolicy.RandAugment, RandomErasingProbability = 0.5, MixupAlpha = 0.8, CutMixAlpha = 1 };
        using var loader = new BatchLoader(Train, 32, Normalization, META, ImageAugmentation.For(withMixing, Normalization), MixupCutMix.For(withMixing));
        var order = Enumerable.Range(0, Train.Count).ToArray();
        foreach (IBatchSource source in new IBatchSource[] { stream, loader })
        {
            Assert.Equal(DeviceType.META, source.Device.type);
            source.Begin(order, new Random(1));
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                var (images, labels, weights) = source.Next();
                Assert.Equal(DeviceType.META, images.device_type);
                Assert.Equal(DeviceType.META, labels.device_type);
                Assert.Equal(i < 2 ? 32 : 16, images.shape[0]);
                Assert.Equal(ScalarType.Float32, images.dtype);
                if (weights is not null)
                    Assert.Equal(DeviceType.META, weights.device_type);
            }
        }
        Assert.True(stream.ChunksSent > 1, "the small chunk size should have split the pass");
    }

    [Fact]
    public void TheFlatOptimizerKeepsEverythingOnTheParametersDevice()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        network.to(META);
        var (optimizer, _) = OptimizerGroups.CreateAdamW(network, Settings with { HeadLearningRateMultiplier = 2 }, flat: true);
        using var _ = optimizer;
        var flat = (FlatAdamW)optimizer;
        Assert.Equal(DeviceType.META, flat.Values.device_type);
        Assert.All(network.parameters(), p => Assert.Equal(DeviceType.META, p.grad!.device_type));
        optimizer.zero_grad();
        using var norm = flat.ClipGradientNorm(1.0);
        optimizer.step();
        Assert.Equal(DeviceType.META, norm.device_type);
        Assert.All(network.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
    }

    public static TheoryData<bool, bool, bool> Runs => new()
    {
        // batches on the device, flat optimizer, per-image CPU augmentations with mixing
        { true, true, false },
        { true, false, false },
        { false, true, true },
        { false, false, true },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void TheLoopCreatesNoTensorOffItsDevice(bool batchesOnDevice, bool flat, bool cpuAugmentations)
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3); // built before: modules are created on the default device
        var settings = Settings with
        {
            AugmentationPolicy = cpuAugmentations ? AugmentationPolicy.RandAugment : AugmentationPolicy.None,
            MixupAlpha = cpuAugmentations ? 0.8 : 0,
            GradientClipNorm = 1.0,
            HeadLearningRateMultiplier = 2,
            EarlyStoppingMetric = EarlyStoppingMetric.ValidationLoss,
            FlatOptimizer = flat,
        };
        var result = WithMetaAsDefaultDevice(() =>
            new CctTrainingLoop(network, settings, CPU) { BatchesOnDevice = batchesOnDevice }.Run(Train, Validation));

        Assert.Equal("cpu", result.Device);
        Assert.Equal(batchesOnDevice && !cpuAugmentations, result.BatchesOnDevice);
        Assert.Equal(2 * 3, result.Steps);
        Assert.All(result.History.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss) && double.IsFinite(e.ValidationLoss!.Value)));
        Assert.All(network.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
    }

    [Fact]
    public void ThePredictorCreatesNoTensorOffTheNetworksDevice()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var (metrics, logits) = WithMetaAsDefaultDevice(() => (
            CctPredictor.Evaluate(network, Validation, Normalization, batchSize: 10, MixedPrecision.BFloat16)!,
            CctPredictor.PredictLogits(network, Validation, Normalization, batchSize: 10)));
        Assert.Equal(Validation.Count, metrics.Count);
        Assert.True(double.IsFinite(metrics.Loss));
        Assert.Equal(Validation.Count * 4, logits.Length);
    }
}
