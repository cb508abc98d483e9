using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Training;

[Collection(TorchGlobalStateCollection.Name)]
public class CctPredictorTests
{
    [Fact]
    public void EvaluateAgreesWithThePredictedLogitsAndRestoresTheMode()
    {
        using var network = QuadrantImages.TinyNetwork(seed: 4);
        var data = QuadrantImages.Create(21, seed: 9); // 21 = 2 batches of 8 and one of 5
        var normalization = new PixelNormalization(1.0 / 255, [0.4], [0.3]);
        network.train();
        var logits = CctPredictor.PredictLogits(network, data, normalization, batchSize: 8);
        Assert.True(network.training, "training mode restored");
        var probabilities = CctPredictor.PredictProbabilities(network, data, normalization, batchSize: 8);
        network.eval();
        var metrics = CctPredictor.Evaluate(network, data, normalization, batchSize: 8)!;
        Assert.False(network.training, "evaluation mode kept");

        Assert.Equal(21 * 4, logits.Length);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < 21; i++)
        {
            var row = logits.AsSpan(i * 4, 4).ToArray();
            double logSumExp = Math.Log(row.Sum(v => Math.Exp(v)));
            loss += logSumExp - row[data.Labels[i]];
            correct += Array.IndexOf(row, row.Max()) == data.Labels[i] ? 1 : 0;
            Assert.Equal(1.0, probabilities.AsSpan(i * 4, 4).ToArray().Sum(), 5);
            Assert.Equal(Math.Exp(row[1] - logSumExp), probabilities[i * 4 + 1], 5);
        }
        Assert.Equal(21, metrics.Count);
        Assert.Equal(loss / 21, metrics.Loss, 5);
        Assert.Equal(correct / 21.0, metrics.Top1, 12);
        Assert.Equal(1.0, metrics.Top5);
        // Eval mode is deterministic (no dropout): batch size does not change the answer.
        Assert.Equal(logits, CctPredictor.PredictLogits(network, data, normalization, batchSize: 21), new Tolerance(1e-5f));
    }

    private sealed class Tolerance(float bound) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= bound;
        public int GetHashCode(float obj) => 0;
    }
}
