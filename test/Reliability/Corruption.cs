using System.IO.Compression;
using CsCheck;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>One way to damage a file's bytes, as a value CsCheck can generate, shrink and print.</summary>
public abstract record Corruption
{
    public abstract byte[] Apply(byte[] original);

    /// <summary>Cut the file at <paramref name="Length"/> bytes.</summary>
    public sealed record Truncate(int Length) : Corruption
    {
        public override byte[] Apply(byte[] original) => original[..Math.Min(Length, original.Length)];
    }

    /// <summary>XOR the bytes at <paramref name="Positions"/> with the non-zero <paramref name="Masks"/>.</summary>
    public sealed record FlipBytes(int[] Positions, byte[] Masks) : Corruption
    {
        public override byte[] Apply(byte[] original)
        {
            var copy = (byte[])original.Clone();
            for (int i = 0; i < Positions.Length && copy.Length > 0; i++)
                copy[Positions[i] % copy.Length] ^= Masks[i % Masks.Length];
            return copy;
        }

        public override string ToString() => $"FlipBytes at [{string.Join(", ", Positions)}] with [{Convert.ToHexString(Masks)}]";
    }

    /// <summary>Write <paramref name="Bytes"/> over the file from <paramref name="Position"/> (never past its end).</summary>
    public sealed record Overwrite(int Position, byte[] Bytes) : Corruption
    {
        public override byte[] Apply(byte[] original)
        {
            var copy = (byte[])original.Clone();
            int at = Math.Min(Position, copy.Length);
            Bytes.AsSpan(0, Math.Min(Bytes.Length, copy.Length - at)).CopyTo(copy.AsSpan(at));
            return copy;
        }

        public override string ToString() => $"Overwrite at {Position} with {Convert.ToHexString(Bytes)}";
    }

    /// <summary>Insert <paramref name="Bytes"/> at <paramref name="Position"/>.</summary>
    public sealed record Insert(int Position, byte[] Bytes) : Corruption
    {
        public override byte[] Apply(byte[] original)
        {
            int at = Math.Min(Position, original.Length);
            return [.. original.AsSpan(0, at), .. Bytes, .. original.AsSpan(at)];
        }

        public override string ToString() => $"Insert at {Position}: {Convert.ToHexString(Bytes)}";
    }

    /// <summary>Delete <paramref name="Count"/> bytes from <paramref name="Position"/>.</summary>
    public sealed record Delete(int Position, int Count) : Corruption
    {
        public override byte[] Apply(byte[] original)
        {
            int at = Math.Min(Position, original.Length), end = Math.Min(original.Length, at + Count);
            return [.. original.AsSpan(0, at), .. original.AsSpan(end)];
        }
    }

    /// <summary>Replace <paramref name="Count"/> bytes at <paramref name="Position"/> with <paramref name="Bytes"/> (for hand-made damage).</summary>
    public sealed record Splice(int Position, int Count, byte[] Bytes) : Corruption
    {
        public override byte[] Apply(byte[] original) => [.. original.AsSpan(0, Position), .. Bytes, .. original.AsSpan(Position + Count)];
    }

    /// <summary>Any of the five kinds, at positions inside a file of <paramref name="length"/> bytes.</summary>
    public static Gen<Corruption> Of(int length) => Gen.OneOf<Corruption>(
        Gen.Int[0, length - 1].Select(n => (Corruption)new Truncate(n)),
        Gen.Select(Gen.Int[0, length - 1].Array[1, 8], Gen.Byte[1, 255].Array[8], (p, m) => (Corruption)new FlipBytes(p, m)),
        Gen.Select(Gen.Int[0, length - 1], Gen.Byte.Array[1, 64], (p, b) => (Corruption)new Overwrite(p, b)),
        Gen.Select(Gen.Int[0, length], Gen.Byte.Array[1, 16], (p, b) => (Corruption)new Insert(p, b)),
        Gen.Select(Gen.Int[0, length - 1], Gen.Int[1, 64], (p, n) => (Corruption)new Delete(p, n)));

    /// <summary>
    /// Damage inside one entry of a zip, with the zip rebuilt around it so that sizes and CRC-32s are right again: what
    /// the zip layer cannot catch, and the parsers behind it must.
    /// </summary>
    public static byte[] InsideEntry(byte[] zip, string entryName, Corruption corruption)
    {
        using var output = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var read = entry.Open();
                var bytes = new MemoryStream();
                read.CopyTo(bytes);
                var content = entry.FullName == entryName ? corruption.Apply(bytes.ToArray()) : bytes.ToArray();
                using var write = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                write.Write(content);
            }
        }
        return output.ToArray();
    }

    /// <summary>The bytes of entry <paramref name="entryName"/> of <paramref name="zip"/>.</summary>
    public static byte[] EntryOf(byte[] zip, string entryName)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var read = archive.GetEntry(entryName)!.Open();
        var bytes = new MemoryStream();
        read.CopyTo(bytes);
        return bytes.ToArray();
    }
}
