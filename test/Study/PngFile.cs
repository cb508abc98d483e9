using System.Buffers.Binary;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

/// <summary>Checks a PNG file's signature and reads the image size from its IHDR chunk.</summary>
internal static class PngFile
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static (int Width, int Height) Size(string path) => Size(File.ReadAllBytes(path));

    public static (int Width, int Height) Size(byte[] png)
    {
        Assert.True(png.Length > 33, $"{png.Length} bytes is too short for a PNG");
        Assert.Equal(Signature, png[..8]);
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8))); // IHDR length
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal("IEND"u8.ToArray(), png[^8..^4]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
