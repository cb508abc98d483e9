using System.Globalization;
using System.IO.Compression;

namespace Microsoft.ML.CompactTransformer;

/// <summary>
/// Opens a zip file that may be damaged and reads its entries without trusting their headers: memory grows only with
/// the bytes that actually come out of an entry (a damaged length field cannot ask for gigabytes), an entry's size must
/// match its declared one, and its CRC-32 must match the stored one (.NET's <c>ZipArchive</c> does not check it).
/// Every failure is an <see cref="InvalidDataException"/> that names the file.
/// </summary>
internal sealed class UntrustedZip : IDisposable
{
    /// <summary>Entries larger than this are refused: byte arrays and the readers here index with int.</summary>
    private const long MaxEntryLength = int.MaxValue - 64;

    private readonly ZipArchive _archive;

    private UntrustedZip(string path, ZipArchive archive, IReadOnlyList<ZipArchiveEntry> entries)
    {
        Path = path;
        _archive = archive;
        Entries = entries;
    }

    /// <summary>The file, as named in errors.</summary>
    public string Path { get; }

    /// <summary>The entries of the central directory.</summary>
    public IReadOnlyList<ZipArchiveEntry> Entries { get; }

    /// <summary>Opens <paramref name="path"/>; <paramref name="expected"/> says what the file should be, for the error.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable zip.</exception>
    public static UntrustedZip Open(string path, string expected)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"There is no file at '{path}'; expected {expected}.", path);
        ZipArchive? archive = null;
        try
        {
            archive = ZipFile.OpenRead(path);
            var entries = archive.Entries.ToArray(); // reads the central directory: damage shows here
            return new UntrustedZip(path, archive, entries);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException or ArgumentException)
        {
            archive?.Dispose();
            throw new InvalidDataException($"'{path}' is not a zip file, or is damaged ({e.Message}); expected {expected}.", e);
        }
    }

    /// <summary>The bytes of <paramref name="entry"/>, checked against its declared size and CRC-32.</summary>
    /// <exception cref="InvalidDataException">The entry cannot be read whole, or differs from its header.</exception>
    public byte[] Read(ZipArchiveEntry entry)
    {
        long declared = entry.Length;
        if (declared < 0 || declared > MaxEntryLength)
            throw Damaged(entry, $"declares {declared} bytes");
        using var buffer = new MemoryStream();
        try
        {
            using var stream = entry.Open();
            var chunk = new byte[81920];
            int read;
            // Reading one byte past the declared length is enough to know the entry is longer than it says.
            while (buffer.Length <= declared
                && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, declared + 1 - buffer.Length))) > 0)
                buffer.Write(chunk, 0, read);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"'{Path}' is damaged: zip entry '{entry.FullName}' cannot be read ({e.Message}).", e);
        }
        if (buffer.Length != declared)
            throw Damaged(entry, $"declares {declared} bytes but holds " +
                (buffer.Length > declared ? "more" : buffer.Length.ToString(CultureInfo.InvariantCulture)));
        var bytes = buffer.ToArray();
        uint crc = Crc32.Compute(bytes);
        if (crc != entry.Crc32)
            throw Damaged(entry, $"fails its CRC-32 check (stored {entry.Crc32:x8}, computed {crc:x8})");
        return bytes;
    }

    private InvalidDataException Damaged(ZipArchiveEntry entry, string reason) =>
        new($"'{Path}' is damaged or truncated: zip entry '{entry.FullName}' {reason}.");

    public void Dispose() => _archive.Dispose();
}
