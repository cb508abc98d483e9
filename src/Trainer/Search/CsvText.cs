using System.Text;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>RFC 4180 cells: quoted when they hold a comma, quote or line break, so error messages survive a round trip.</summary>
internal static class CsvText
{
    public static string Row(IEnumerable<string> cells) => string.Join(',', cells.Select(Cell));

    private static string Cell(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) < 0 ? cell : "\"" + cell.Replace("\"", "\"\"") + "\"";

    /// <summary>Splits CSV text into rows of cells; blank lines are skipped.</summary>
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c != '"')
                    cell.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"')
                    cell.Append(text[++i]);
                else
                    quoted = false;
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; any = true; break;
                case ',': row.Add(cell.ToString()); cell.Clear(); any = true; break;
                case '\r': break;
                case '\n': EndRow(); break;
                default: cell.Append(c); any = true; break;
            }
        }
        if (quoted)
            throw new FormatException("The CSV ends inside a quoted cell.");
        EndRow();
        return rows;

        void EndRow()
        {
            if (any)
            {
                row.Add(cell.ToString());
                rows.Add(row.ToArray());
            }
            row.Clear();
            cell.Clear();
            any = false;
        }
    }
}
