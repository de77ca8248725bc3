using System.Text.Json;
using CausalEval.Core.Json;

namespace CausalEval.Core.Worlds;

/// <summary>The world file format of DESIGN §1.1 (System.Text.Json source generation: <see cref="WorldFile"/>).</summary>
public static class WorldJson
{
    public static World Load(string path) => Parse(JsonRead.ReadFile(path), path);

    public static World Parse(string json, string source) => ToWorld(JsonInput.Deserialize(source, json, CoreJsonContext.Default.WorldFile), source, "$");

    /// <summary>The world of a file read from <paramref name="source"/> at <paramref name="path"/> (<c>$</c>, or <c>world</c> inside a dataset line).</summary>
    internal static World ToWorld(WorldFile file, string source, string path)
    {
        var variables = JsonInput.NoNullItems(file.Variables, source, Child(path, "variables"));
        var edges = JsonInput.NoNullItems(file.Edges ?? [], source, Child(path, "edges"))
            .Select(e => new Edge(e.From, e.To, e.Weight)).ToList();
        var hidden = JsonInput.NoNullItems(file.Hidden ?? [], source, Child(path, "hidden"));
        var (world, field, problem) = World.TryCreate(variables, edges, file.NoiseSd ?? 0.1, hidden);
        return world ?? throw new InputException(source, Child(path, field!), problem!);
    }

    internal static WorldFile ToFile(World world) =>
        new(world.Variables, [.. world.Edges.Select(e => new WorldFile.EdgeFile(e.From, e.To, e.Weight))], world.NoiseSd, world.Hidden);

    /// <summary>Writes <paramref name="world"/> as a JSON object where <paramref name="writer"/> stands.</summary>
    public static void Write(Utf8JsonWriter writer, World world) => JsonSerializer.Serialize(writer, ToFile(world), CoreJsonContext.Default.WorldFile);

    /// <summary>A <see cref="World"/> property of another project's DTO, in the world file format.</summary>
    public sealed class Converter : System.Text.Json.Serialization.JsonConverter<World>
    {
        /// <inheritdoc/>
        public override World Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => ToWorld(JsonSerializer.Deserialize(ref reader, CoreJsonContext.Default.WorldFile)
                ?? throw new JsonException("expected a world, found null"), "world", "$");

        /// <inheritdoc/>
        public override void Write(Utf8JsonWriter writer, World value, JsonSerializerOptions options) => WorldJson.Write(writer, value);
    }

    private static string Child(string path, string name) => path == "$" ? name : $"{path}.{name}";
}

/// <summary>A world file as written: <c>variables</c>, <c>edges</c> (from, to, weight), <c>noise_sd</c>, <c>hidden</c> (that order).</summary>
internal sealed record WorldFile(
    IReadOnlyList<string?> Variables,
    IReadOnlyList<WorldFile.EdgeFile?>? Edges = null,
    double? NoiseSd = null,
    IReadOnlyList<string?>? Hidden = null)
{
    internal sealed record EdgeFile(string From, string To, double Weight);
}
