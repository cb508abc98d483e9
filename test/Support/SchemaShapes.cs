using System.Reflection;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>SchemaShape.Create(DataViewSchema) is internal to ML.NET; tests reach it by reflection to call GetOutputSchema.</summary>
internal static class SchemaShapes
{
    public static SchemaShape Of(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, new[] { typeof(DataViewSchema) })!
            .Invoke(null, new object[] { schema })!;
}
