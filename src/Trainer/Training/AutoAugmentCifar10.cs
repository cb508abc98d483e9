using static Microsoft.ML.CompactTransformer.Training.PixelOperation;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// AutoAugment's CIFAR-10 policy, as the original's legacy recipe applies it (<c>CIFAR10Policy</c>): per image, one
/// of 25 sub-policies uniformly; each runs its two operations, each with its own probability, at a magnitude bin
/// 0..9 mapped to an argument as below. Signed operations draw their sign per application.
/// </summary>
internal sealed class AutoAugmentCifar10 : ImageAugmentation
{
    private sealed record Step(PixelOperation Operation, double Probability, int Magnitude);

    // (operation, probability, magnitude bin) x 2, from the AutoAugment paper's CIFAR-10 policy.
    private static readonly (Step First, Step Second)[] SubPolicies =
    [
        (new(Invert, 0.1, 7), new(Contrast, 0.2, 6)),
        (new(Rotate, 0.7, 2), new(TranslateX, 0.3, 9)),
        (new(Sharpness, 0.8, 1), new(Sharpness, 0.9, 3)),
        (new(ShearY, 0.5, 8), new(TranslateY, 0.7, 9)),
        (new(AutoContrast, 0.5, 8), new(Equalize, 0.9, 2)),
        (new(ShearY, 0.2, 7), new(Posterize, 0.3, 7)),
        (new(Color, 0.4, 3), new(Brightness, 0.6, 7)),
        (new(Sharpness, 0.3, 9), new(Brightness, 0.7, 9)),
        (new(Equalize, 0.6, 5), new(Equalize, 0.5, 1)),
        (new(Contrast, 0.6, 7), new(Sharpness, 0.6, 5)),
        (new(Color, 0.7, 7), new(TranslateX, 0.5, 8)),
        (new(Equalize, 0.3, 7), new(AutoContrast, 0.4, 8)),
        (new(TranslateY, 0.4, 3), new(Sharpness, 0.2, 6)),
        (new(Brightness, 0.9, 6), new(Color, 0.2, 8)),
        (new(Solarize, 0.5, 2), new(Invert, 0.0, 3)),
        (new(Equalize, 0.2, 0), new(AutoContrast, 0.6, 0)),
        (new(Equalize, 0.2, 8), new(Equalize, 0.6, 4)),
        (new(Color, 0.9, 9), new(Equalize, 0.6, 6)),
        (new(AutoContrast, 0.8, 4), new(Solarize, 0.2, 8)),
        (new(Brightness, 0.1, 3), new(Color, 0.7, 0)),
        (new(Solarize, 0.4, 5), new(AutoContrast, 0.9, 3)),
        (new(TranslateY, 0.9, 9), new(TranslateY, 0.7, 9)),
        (new(AutoContrast, 0.9, 2), new(Solarize, 0.8, 3)),
        (new(Equalize, 0.8, 8), new(Invert, 0.1, 3)),
        (new(TranslateY, 0.7, 9), new(AutoContrast, 0.9, 1)),
    ];

    /// <summary>Number of sub-policies (25).</summary>
    public static int Count => SubPolicies.Length;

    public override void Apply(Span<float> image, int channels, int height, int width, Random random)
    {
        var (first, second) = SubPolicies[random.Next(SubPolicies.Length)];
        Run(first, image, channels, height, width, random);
        Run(second, image, channels, height, width, random);
    }

    private static void Run(Step step, Span<float> image, int channels, int height, int width, Random random)
    {
        if (random.NextDouble() >= step.Probability)
            return;
        double sign = random.Next(2) == 0 ? -1 : 1;
        step.Operation.Apply(image, channels, height, width, Argument(step.Operation, step.Magnitude, sign, width, height));
    }

    /// <summary>The argument of magnitude bin <paramref name="bin"/> (0..9): linear ranges over 10 bins, as the policy's authors tabulated them.</summary>
    internal static double Argument(PixelOperation operation, int bin, double sign, int width, int height)
    {
        double t = bin / 9.0;
        return operation switch
        {
            ShearX or ShearY => sign * 0.3 * t,
            TranslateX => sign * 150.0 / 331 * t * width,
            TranslateY => sign * 150.0 / 331 * t * height,
            Rotate => sign * 30 * t,
            Color or Contrast or Sharpness or Brightness => 1 + sign * 0.9 * t,
            Posterize => Math.Round(8 - 4 * t, MidpointRounding.ToEven),
            Solarize => 256 - 256 * t,
            _ => 0,
        };
    }
}
