using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>bfloat16 autocast through libtorch's own switch, tried on the CPU (the same switch serves CUDA).</summary>
[Collection(TorchGlobalStateCollection.Name)]
public class MixedPrecisionTests
{
    [Fact]
    public void AutocastLowersMatrixProductsInsideTheScopeOnly()
    {
        TorchRuntime.EnsureInitialized();
        using var linear = nn.Linear(8, 4);
        using var x = randn(2, 8);
        Assert.False(Autocast.IsEnabled(CPU));
        using (Autocast.Enter(CPU, ScalarType.BFloat16))
        {
            Assert.True(Autocast.IsEnabled(CPU));
            using var inside = linear.call(x);
            Assert.Equal(ScalarType.BFloat16, inside.dtype);
            using (Autocast.Enter(CPU, ScalarType.BFloat16))
                Assert.True(Autocast.IsEnabled(CPU));
            Assert.True(Autocast.IsEnabled(CPU)); // the inner scope restored the outer one's state
        }
        Assert.False(Autocast.IsEnabled(CPU));
        using var outside = linear.call(x);
        Assert.Equal(ScalarType.Float32, outside.dtype);
        Assert.Equal(ScalarType.Float32, linear.weight!.dtype); // master weights stay float32
        Assert.Null(Autocast.Enter(CPU, Autocast.DtypeOf(MixedPrecision.None)));
    }

    [Fact]
    public void TrainingInBFloat16LearnsAndKeepsFloat32Weights()
    {
        var train = QuadrantImages.Create(256, seed: 1);
        var validation = QuadrantImages.Create(96, seed: 2);
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var settings = new TrainingSettings
        {
            Epochs = 4, BatchSize = 32, LearningRate = 3e-3, WarmupEpochs = 0.5, MinLearningRate = 1e-4, Threads = 1, Seed = 5,
            MixedPrecision = MixedPrecision.BFloat16,
        };
        var result = new CctTrainingLoop(network, settings).Run(train, validation);
        var epochs = result.History.Epochs;
        Assert.True(epochs.Max(e => e.ValidationTop1) >= 0.9, $"validation top-1 {string.Join(", ", epochs.Select(e => e.ValidationTop1))} (chance 0.25)");
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss);
        Assert.All(network.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.False(Autocast.IsEnabled(CPU));
    }

    [Fact]
    public void BFloat16PredictionsAreFloat32AndCloseToFullPrecision()
    {
        var data = QuadrantImages.Create(40, seed: 2);
        using var network = QuadrantImages.TinyNetwork(seed: 3);
        var normalization = new PixelNormalization(1.0 / 255, [0.3], [0.3]);
        var full = CctPredictor.PredictLogits(network, data, normalization, batchSize: 16);
        var half = CctPredictor.PredictLogits(network, data, normalization, batchSize: 16, MixedPrecision.BFloat16);
        Assert.Equal(full.Length, half.Length);
        double scale = full.Max(Math.Abs);
        double worst = full.Zip(half, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst > 0, "bfloat16 should round somewhere");
        Assert.True(worst < 0.05 * scale + 0.02, $"bfloat16 logits differ by {worst} (largest logit {scale})");
        var metrics = CctPredictor.Evaluate(network, data, normalization, batchSize: 16, MixedPrecision.BFloat16)!;
        Assert.True(double.IsFinite(metrics.Loss));
    }
}
