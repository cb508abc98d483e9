namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>The operations AutoAugment and RandAugment choose from (see <see cref="PixelOperations"/>).</summary>
internal enum PixelOperation
{
    AutoContrast,
    Equalize,
    Invert,
    Rotate,
    Posterize,
    Solarize,
    SolarizeAdd,
    Color,
    Contrast,
    Brightness,
    Sharpness,
    ShearX,
    ShearY,
    TranslateX,
    TranslateY,
}

internal static class PixelOperationExtensions
{
    /// <summary>
    /// Applies <paramref name="operation"/> with its argument: degrees, shear, pixels, bits, threshold, addition or
    /// enhancement factor, depending on the operation; ignored by AutoContrast, Equalize and Invert.
    /// </summary>
    public static void Apply(this PixelOperation operation, Span<float> image, int channels, int height, int width, double argument)
    {
        switch (operation)
        {
            case PixelOperation.AutoContrast: PixelOperations.AutoContrast(image, channels); break;
            case PixelOperation.Equalize: PixelOperations.Equalize(image, channels); break;
            case PixelOperation.Invert: PixelOperations.Invert(image); break;
            case PixelOperation.Rotate: PixelOperations.Rotate(image, channels, height, width, argument); break;
            case PixelOperation.Posterize: PixelOperations.Posterize(image, (int)argument); break;
            case PixelOperation.Solarize: PixelOperations.Solarize(image, argument); break;
            case PixelOperation.SolarizeAdd: PixelOperations.SolarizeAdd(image, (int)argument); break;
            case PixelOperation.Color: PixelOperations.Color(image, channels, argument); break;
            case PixelOperation.Contrast: PixelOperations.Contrast(image, channels, argument); break;
            case PixelOperation.Brightness: PixelOperations.Brightness(image, argument); break;
            case PixelOperation.Sharpness: PixelOperations.Sharpness(image, channels, height, width, argument); break;
            case PixelOperation.ShearX: PixelOperations.ShearX(image, channels, height, width, argument); break;
            case PixelOperation.ShearY: PixelOperations.ShearY(image, channels, height, width, argument); break;
            case PixelOperation.TranslateX: PixelOperations.TranslateX(image, channels, height, width, argument); break;
            case PixelOperation.TranslateY: PixelOperations.TranslateY(image, channels, height, width, argument); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }
}
