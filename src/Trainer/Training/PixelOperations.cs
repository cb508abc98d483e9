namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// The image operations of AutoAugment and RandAugment, on one 8-bit image held as planar CHW floats with integer
/// values 0..255 (the raw pixels of a byte data set, before normalisation). They follow PIL's definitions, which the
/// original's policies call, and always leave integer values in 0..255, so operations chain as on real 8-bit images.
/// Geometric operations sample the nearest pixel and fill uncovered pixels with mid-grey (128), as the original's
/// CIFAR-10 policy does; colour operations need 3 channels and leave other images unchanged.
/// </summary>
internal static class PixelOperations
{
    /// <summary>Value of the pixels a geometric operation uncovers.</summary>
    public const float Fill = 128;

    public static void Invert(Span<float> image)
    {
        foreach (ref float v in image)
            v = 255 - v;
    }

    /// <summary>Keeps the top <paramref name="bits"/> bits of every value (0 bits: black; 8: unchanged).</summary>
    public static void Posterize(Span<float> image, int bits)
    {
        if (bits >= 8)
            return;
        int mask = ~((1 << (8 - Math.Max(bits, 0))) - 1) & 0xFF;
        foreach (ref float v in image)
            v = (int)v & mask;
    }

    /// <summary>Inverts every value at or above <paramref name="threshold"/>.</summary>
    public static void Solarize(Span<float> image, double threshold)
    {
        foreach (ref float v in image)
            if (v >= threshold)
                v = 255 - v;
    }

    /// <summary>Adds <paramref name="addition"/> to every value below 128, saturating at 255 (timm's SolarizeAdd).</summary>
    public static void SolarizeAdd(Span<float> image, int addition)
    {
        foreach (ref float v in image)
            if (v < 128)
                v = Math.Min(255, v + addition);
    }

    /// <summary>Stretches each channel so that its darkest value becomes 0 and its brightest 255.</summary>
    public static void AutoContrast(Span<float> image, int channels)
    {
        int plane = image.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            var p = image.Slice(c * plane, plane);
            float lo = 255, hi = 0;
            foreach (float v in p)
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }
            if (hi <= lo)
                continue;
            double scale = 255.0 / (hi - lo);
            foreach (ref float v in p)
                v = Clamp((v - lo) * scale);
        }
    }

    /// <summary>Equalises the histogram of each channel (PIL's ImageOps.equalize).</summary>
    public static void Equalize(Span<float> image, int channels)
    {
        int plane = image.Length / channels;
        Span<int> histogram = stackalloc int[256];
        Span<int> lut = stackalloc int[256];
        for (int c = 0; c < channels; c++)
        {
            var p = image.Slice(c * plane, plane);
            histogram.Clear();
            foreach (float v in p)
                histogram[(int)v]++;
            int last = 255;
            while (last > 0 && histogram[last] == 0)
                last--;
            int step = (plane - histogram[last]) / 255;
            if (step == 0)
                continue; // a (nearly) single-valued channel stays as it is
            int n = step / 2;
            for (int i = 0; i < 256; i++)
            {
                lut[i] = Math.Min(255, n / step);
                n += histogram[i];
            }
            foreach (ref float v in p)
                v = lut[(int)v];
        }
    }

    /// <summary>Scales every value by <paramref name="factor"/> (PIL's Brightness: a blend with black).</summary>
    public static void Brightness(Span<float> image, double factor)
    {
        foreach (ref float v in image)
            v = Clamp(v * factor);
    }

    /// <summary>Blends with the mean grey level (PIL's Contrast): 0 gives a flat grey image, 1 the original.</summary>
    public static void Contrast(Span<float> image, int channels, double factor)
    {
        int plane = image.Length / channels;
        double sum = 0;
        for (int i = 0; i < plane; i++)
            sum += Luma(image, channels, plane, i);
        float mean = (int)(sum / plane + 0.5);
        foreach (ref float v in image)
            v = Clamp(mean + factor * (v - mean));
    }

    /// <summary>Blends with the greyscale image (PIL's Color, i.e. saturation); images without 3 channels are left alone.</summary>
    public static void Color(Span<float> image, int channels, double factor)
    {
        if (channels != 3)
            return;
        int plane = image.Length / channels;
        for (int i = 0; i < plane; i++)
        {
            float grey = Luma(image, channels, plane, i);
            for (int c = 0; c < 3; c++)
            {
                ref float v = ref image[c * plane + i];
                v = Clamp(grey + factor * (v - grey));
            }
        }
    }

    /// <summary>
    /// Blends with a smoothed copy (PIL's Sharpness: 3x3 kernel with centre 5 and ring 1, over 13; border pixels keep
    /// their value in the smoothed copy): above 1 sharpens, below 1 blurs.
    /// </summary>
    public static void Sharpness(Span<float> image, int channels, int height, int width, double factor)
    {
        if (height < 3 || width < 3)
            return;
        int plane = height * width;
        var smooth = new float[plane];
        for (int c = 0; c < channels; c++)
        {
            var p = image.Slice(c * plane, plane);
            p.CopyTo(smooth);
            for (int y = 1; y < height - 1; y++)
                for (int x = 1; x < width - 1; x++)
                {
                    float s = 4 * p[y * width + x];
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            s += p[(y + dy) * width + x + dx];
                    smooth[y * width + x] = (int)(s / 13 + 0.5f);
                }
            for (int i = 0; i < plane; i++)
                p[i] = Clamp(smooth[i] + factor * (p[i] - smooth[i]));
        }
    }

    /// <summary>Output pixel (x, y) takes input pixel (x + shear * y, y) (PIL's affine transform, origin top-left).</summary>
    public static void ShearX(Span<float> image, int channels, int height, int width, double shear) =>
        Affine(image, channels, height, width, 1, shear, 0, 0, 1, 0);

    /// <summary>Output pixel (x, y) takes input pixel (x, y + shear * x).</summary>
    public static void ShearY(Span<float> image, int channels, int height, int width, double shear) =>
        Affine(image, channels, height, width, 1, 0, 0, shear, 1, 0);

    /// <summary>Shifts the content left by <paramref name="pixels"/> (right when negative).</summary>
    public static void TranslateX(Span<float> image, int channels, int height, int width, double pixels) =>
        Affine(image, channels, height, width, 1, 0, pixels, 0, 1, 0);

    /// <summary>Shifts the content up by <paramref name="pixels"/> (down when negative).</summary>
    public static void TranslateY(Span<float> image, int channels, int height, int width, double pixels) =>
        Affine(image, channels, height, width, 1, 0, 0, 0, 1, pixels);

    /// <summary>Rotates the content about the image centre by <paramref name="degrees"/> (counter-clockwise when positive).</summary>
    public static void Rotate(Span<float> image, int channels, int height, int width, double degrees)
    {
        double t = degrees * Math.PI / 180, cos = Math.Cos(t), sin = Math.Sin(t);
        double cx = width / 2.0, cy = height / 2.0;
        // Inverse map of a counter-clockwise rotation (y down): input = R(-t) applied to (output - centre) + centre.
        Affine(image, channels, height, width, cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy);
    }

    /// <summary>
    /// Output pixel centre (x, y) samples the input at (a x + b y + c, d x + e y + f), nearest pixel; outside the image
    /// it is <see cref="Fill"/>.
    /// </summary>
    private static void Affine(Span<float> image, int channels, int height, int width, double a, double b, double c, double d, double e, double f)
    {
        int plane = height * width;
        var source = image.ToArray();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double px = x + 0.5, py = y + 0.5;
                int sx = (int)Math.Floor(a * px + b * py + c), sy = (int)Math.Floor(d * px + e * py + f);
                bool inside = sx >= 0 && sx < width && sy >= 0 && sy < height;
                for (int ch = 0; ch < channels; ch++)
                    image[ch * plane + y * width + x] = inside ? source[ch * plane + sy * width + sx] : Fill;
            }
    }

    // ITU-R 601 luma in integers, as PIL's convert("L") does.
    private static float Luma(Span<float> image, int channels, int plane, int i) => channels == 3
        ? (int)((image[i] * 299 + image[plane + i] * 587 + image[2 * plane + i] * 114) / 1000)
        : image[i];

    private static float Clamp(double v) => (float)Math.Clamp(Math.Round(v), 0, 255);
}
