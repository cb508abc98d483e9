namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>
/// Works out the C x H x W shape of a flat pixel vector (as ExtractPixels produces) from its length and
/// whatever part of the shape the user gave: a vector carries no shape of its own.
/// </summary>
internal static class PixelVectorShape
{
    /// <summary>Channel counts tried when the user gives neither the channels nor both sides.</summary>
    private static readonly int[] GuessedChannels = { 1, 3 };

    /// <summary>
    /// Returns the one shape that fits <paramref name="length"/> and the given dimensions. Without
    /// height and width the image is taken to be square, and without channels, grayscale or RGB.
    /// </summary>
    public static (int Channels, int Height, int Width) Resolve(
        string columnName, long length, int? channels, int? height, int? width)
    {
        if (length < 1)
            throw new ArgumentException($"Column '{columnName}' holds empty vectors: there are no pixels to read.");
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentException(
                $"Image channels, height and width must be positive (got {Show(channels)}, {Show(height)}, {Show(width)}).");
        var candidates = new List<(int C, int H, int W)>();
        if (channels is null && height is not null && width is not null)
        {
            // Both sides known: any channel count that divides evenly (ExtractPixels with alpha gives 4).
            long area = (long)height.Value * width.Value;
            if (length % area == 0)
                candidates.Add(((int)(length / area), height.Value, width.Value));
        }
        else
        {
            foreach (int c in channels is null ? GuessedChannels : new[] { channels.Value })
            {
                if (c < 1 || length % c != 0)
                    continue;
                long area = length / c;
                if (height is not null && width is not null)
                {
                    if ((long)height.Value * width.Value == area)
                        candidates.Add((c, height.Value, width.Value));
                }
                else if (height is not null)
                {
                    if (area % height.Value == 0)
                        candidates.Add((c, height.Value, (int)(area / height.Value)));
                }
                else if (width is not null)
                {
                    if (area % width.Value == 0)
                        candidates.Add((c, (int)(area / width.Value), width.Value));
                }
                else
                {
                    long side = (long)Math.Round(Math.Sqrt(area));
                    if (side * side == area)
                        candidates.Add((c, (int)side, (int)side));
                }
            }
        }

        string given = $"channels={Show(channels)}, height={Show(height)}, width={Show(width)}";
        if (candidates.Count == 0)
            throw new ArgumentException(
                $"Column '{columnName}' holds vectors of {length} values, which is no C x H x W image for {given}: expected " +
                $"{Expected(channels, height, width)}. Give the image channels, height and width that match the column, or check it " +
                "(ExtractPixels output is C*H*W values).");
        if (candidates.Count > 1)
            throw new ArgumentException(
                $"Column '{columnName}' holds vectors of {length} values, which fits several image shapes for {given} " +
                $"({string.Join(", ", candidates.Select(s => $"{s.C}x{s.H}x{s.W}"))}). Give the channels, height and width explicitly.");
        return candidates[0];
    }

    /// <summary>The lengths that would fit what was given, in words.</summary>
    private static string Expected(int? channels, int? height, int? width)
    {
        string Text(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return (channels, height, width) switch
        {
            ({ } c, { } h, { } w) => $"{c}x{h}x{w} = {Text((long)c * h * w)} values",
            (null, { } h, { } w) => $"a multiple of {h}x{w} = {Text((long)h * w)} values",
            ({ } c, { } h, null) => $"a multiple of {c}x{h} = {Text((long)c * h)} values",
            ({ } c, null, { } w) => $"a multiple of {c}x{w} = {Text((long)c * w)} values",
            ({ } c, null, null) => $"{c} times a square number (a {c}xHxH image)",
            (null, { } h, null) => $"1 or 3 times a multiple of {h} (a Cx{h}xW image)",
            (null, null, { } w) => $"1 or 3 times a multiple of {w} (a CxHx{w} image)",
            (null, null, null) => "1 or 3 times a square number (a square grayscale or RGB image, e.g. 1x28x28 = 784 or 3x32x32 = 3072)",
        };
    }

    private static string Show(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
}
