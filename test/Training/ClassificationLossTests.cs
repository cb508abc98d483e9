using Microsoft.ML.CompactTransformer.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

public class ClassificationLossTests
{
    private static readonly double[][] Logits = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]];
    private static readonly long[] Labels = [2, 0];

    // (1 - e) * -log p[label] + e * mean_k(-log p[k]), averaged over the batch, in double.
    private static double Expected(double smoothing)
    {
        double total = 0;
        for (int b = 0; b < Logits.Length; b++)
        {
            double logSumExp = Math.Log(Logits[b].Sum(Math.Exp));
            double[] negLogP = Logits[b].Select(z => logSumExp - z).ToArray();
            total += (1 - smoothing) * negLogP[Labels[b]] + smoothing * negLogP.Average();
        }
        return total / Logits.Length;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void SmoothedLossEqualsTheFormula(double smoothing)
    {
        Native.TorchRuntime.EnsureInitialized();
        using var logits = tensor(Logits.SelectMany(r => r).Select(v => (float)v).ToArray(), [2, 3]);
        using var labels = tensor(Labels);
        using var loss = ClassificationLoss.CrossEntropy(logits, labels, smoothing);
        Assert.Equal(Expected(smoothing), loss.item<float>(), 5);
    }

    [Fact]
    public void SumReductionAddsThePerImageLosses()
    {
        Native.TorchRuntime.EnsureInitialized();
        using var logits = tensor(Logits.SelectMany(r => r).Select(v => (float)v).ToArray(), [2, 3]);
        using var labels = tensor(Labels);
        using var sum = ClassificationLoss.CrossEntropy(logits, labels, 0.1, TorchSharp.torch.nn.Reduction.Sum);
        Assert.Equal(2 * Expected(0.1), sum.item<float>(), 5);
    }
}
