using System.Globalization;
using System.Text;

namespace Benchmarks;

/// <summary>The rows of the report, rendered as one Markdown table.</summary>
internal sealed class ResultTable
{
    private readonly List<(string Area, string Measurement, string Value, string Target, string Met)> rows = [];

    public void Add(string area, string measurement, string value, string target = "", bool? met = null) =>
        rows.Add((area, measurement, value, target, met switch { true => "yes", false => "**no**", null => "" }));

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine("| area | measurement | value | target | met |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var r in rows)
            text.AppendLine($"| {r.Area} | {r.Measurement} | {r.Value} | {r.Target} | {r.Met} |");
        return text.ToString();
    }

    public static string F(double value, int decimals = 1) => value.ToString("N" + decimals, CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => (ratio * 100).ToString("F0", CultureInfo.InvariantCulture) + "%";
}
