namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// The original's fixed sine positional embedding, for when a state dict lacks it:
/// <c>pe[p, i] = p / 10000^(2*(i/2)/d)</c> computed in double, stored as float32, then
/// <c>sin</c> on even and <c>cos</c> on odd channels in float32, as the original does.
/// </summary>
internal static class SinusoidalEmbedding
{
    public static float[] Create(int positions, int dim)
    {
        var table = new float[positions * dim];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < dim; i++)
            {
                float angle = (float)(p / Math.Pow(10000.0, 2.0 * (i / 2) / dim));
                table[p * dim + i] = i % 2 == 0 ? MathF.Sin(angle) : MathF.Cos(angle);
            }
        }
        return table;
    }
}
