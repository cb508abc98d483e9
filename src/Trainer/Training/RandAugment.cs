using static Microsoft.ML.CompactTransformer.Training.PixelOperation;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// RandAugment as timm implements it (the original's timm recipe, <c>rand-m9-mstd0.5</c>): per image,
/// <see cref="Operations"/> operations drawn uniformly with replacement from 15; each is applied with probability 1/2
/// at a magnitude drawn from N(<see cref="Magnitude"/>, <see cref="MagnitudeStd"/>) clipped to 0..10, mapped to an
/// argument on timm's scales (rotate up to 30 degrees, shear 0.3, translate 45% of the size, enhancement factors
/// 1 +/- 0.9, posterize 0..4 bits, solarize threshold 0..256, solarize-add 0..110).
/// </summary>
internal sealed class RandAugment : ImageAugmentation
{
    private static readonly PixelOperation[] Choices =
    [
        AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast, Brightness, Sharpness,
        ShearX, ShearY, TranslateX, TranslateY,
    ];

    public RandAugment(int operations, double magnitude, double magnitudeStd)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(operations, 1);
        Operations = operations;
        Magnitude = magnitude;
        MagnitudeStd = magnitudeStd;
    }

    public int Operations { get; }
    public double Magnitude { get; }
    public double MagnitudeStd { get; }

    public override void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        for (int i = 0; i < Operations; i++)
        {
            var operation = Choices[random.Next(Choices.Length)];
            if (random.NextDouble() >= 0.5)
                continue;
            double level = MagnitudeStd > 0 ? Math.Clamp(Magnitude + MagnitudeStd * random.NextGaussian(), 0, 10) : Magnitude;
            double sign = random.Next(2) == 0 ? -1 : 1;
            operation.Apply(image, channels, height, width, Argument(operation, level, sign, width, height));
        }
    }

    /// <summary>timm's level-to-argument maps for a level on 0..10.</summary>
    internal static double Argument(PixelOperation operation, double level, double sign, int width, int height)
    {
        double t = level / 10;
        return operation switch
        {
            Rotate => sign * 30 * t,
            ShearX or ShearY => sign * 0.3 * t,
            TranslateX => sign * 0.45 * t * width,
            TranslateY => sign * 0.45 * t * height,
            Color or Contrast or Brightness or Sharpness => 1 + sign * 0.9 * t,
            Posterize => (int)(4 * t),
            Solarize => (int)(256 * t),
            SolarizeAdd => (int)(110 * t),
            _ => 0,
        };
    }
}
