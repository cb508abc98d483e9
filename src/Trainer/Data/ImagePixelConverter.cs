using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Turns a decoded image (interleaved 32-bit BGRA or RGBA, as <see cref="MLImage"/> holds it) into
/// planar CHW bytes of the requested size and channel count.
/// </summary>
/// <remarks>
/// The pixel operations mirror the stock transforms so that what training sees matches what a stock
/// inference pipeline produces: a size change is ResizeImages' <c>Fill</c> (SkiaSharp's resize without
/// filtering), one channel is ConvertToGrayscale's 0.30 R + 0.59 G + 0.11 B, three channels are R, G, B
/// in ExtractPixels' order. Alpha is dropped, as ExtractPixels does by default.
/// </remarks>
internal static class ImagePixelConverter
{
    /// <summary>Copies the pixels of <paramref name="image"/> at once (the caller may dispose it right after).</summary>
    public static DecodedImage Copy(MLImage image)
    {
        int width = image.Width, height = image.Height;
        ReadOnlySpan<byte> pixels = image.Pixels;
        if (pixels.Length != width * height * 4)
            throw new InvalidOperationException(
                $"An image of {width}x{height} exposes {pixels.Length} pixel bytes; 32-bit pixels without row padding were expected.");
        bool bgra = image.PixelFormat switch
        {
            MLPixelFormat.Bgra32 => true,
            MLPixelFormat.Rgba32 => false,
            var other => throw new NotSupportedException($"Pixel format {other} is not supported."),
        };
        return new DecodedImage(pixels.ToArray(), width, height, bgra);
    }

    /// <summary>Decodes an encoded image (PNG, JPEG, BMP, ...) the way ML.NET's LoadImages does.</summary>
    public static DecodedImage Decode(byte[] encoded)
    {
        using var stream = new MemoryStream(encoded, writable: false);
        using MLImage image = MLImage.CreateFromStream(stream);
        return Copy(image);
    }

    /// <summary>Writes <paramref name="image"/> as planar CHW bytes of channels x height x width into <paramref name="destination"/>.</summary>
    public static void ToPlanar(DecodedImage image, int channels, int height, int width, Span<byte> destination)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images are read as 1 (grayscale) or 3 (RGB) channels.");
        if (destination.Length != channels * height * width)
            throw new ArgumentException($"The destination must hold {channels * height * width} bytes.", nameof(destination));

        if (image.Width == width && image.Height == height)
        {
            Interleaved(image.Pixels, width * 4, image.Bgra, channels, height, width, destination);
            return;
        }

        var info = new SKImageInfo(image.Width, image.Height,
            image.Bgra ? SKColorType.Bgra8888 : SKColorType.Rgba8888, SKAlphaType.Premul);
        using var source = new SKBitmap(info);
        if (source.RowBytes != image.Width * 4)
            throw new InvalidOperationException("SkiaSharp allocated a padded bitmap; this was not expected.");
        Marshal.Copy(image.Pixels, 0, source.GetPixels(), image.Pixels.Length);
        using SKBitmap resized = source.Resize(new SKSizeI(width, height), SKFilterQuality.None)
            ?? throw new InvalidOperationException($"SkiaSharp could not resize a {image.Width}x{image.Height} image to {width}x{height}.");
        bool bgra = resized.ColorType switch
        {
            SKColorType.Bgra8888 => true,
            SKColorType.Rgba8888 => false,
            var other => throw new NotSupportedException($"SkiaSharp resized into {other} pixels."),
        };
        Interleaved(resized.GetPixelSpan(), resized.RowBytes, bgra, channels, height, width, destination);
    }

    private static void Interleaved(ReadOnlySpan<byte> pixels, int rowBytes, bool bgra, int channels, int height,
        int width, Span<byte> destination)
    {
        int red = bgra ? 2 : 0, blue = bgra ? 0 : 2;
        int plane = height * width;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = pixels.Slice(y * rowBytes, width * 4);
            for (int x = 0; x < width; x++)
            {
                int r = row[4 * x + red], g = row[4 * x + 1], b = row[4 * x + blue];
                int at = y * width + x;
                if (channels == 1)
                {
                    // Integer form of 0.30/0.59/0.11 with rounding: exact for gray pixels (R = G = B).
                    destination[at] = (byte)((30 * r + 59 * g + 11 * b + 50) / 100);
                }
                else
                {
                    destination[at] = (byte)r;
                    destination[plane + at] = (byte)g;
                    destination[2 * plane + at] = (byte)b;
                }
            }
        }
    }
}
