namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>Names for temporary columns of a stock-transform chain that collide with nothing already there.</summary>
internal static class UnusedColumnName
{
    /// <summary><paramref name="stem"/>, with "_" appended until neither <paramref name="schema"/> nor <paramref name="taken"/> has it.</summary>
    public static string For(DataViewSchema schema, string stem, ICollection<string>? taken = null)
    {
        string name = stem;
        while (schema.GetColumnOrNull(name) is not null || taken?.Contains(name) == true)
            name += "_";
        taken?.Add(name);
        return name;
    }
}
