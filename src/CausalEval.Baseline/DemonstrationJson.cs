using System.Text.Json.Serialization;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

namespace CausalEval.Baseline;

/// <summary>One line of <c>causaleval baseline data</c>: which train episode a recipe uses, with its world, target and subset.</summary>
internal static class DemonstrationJson
{
    public static string Line(TaskDefinition task, Episode episode) => JsonInput.ToLine(
        new DemonstrationLine(task.Id, task.Version, Demonstrations.Split, episode.Id, episode.World, episode.Target,
            episode.Options.Subset.IsDefault ? null : episode.Options.Subset),
        BaselineJsonContext.Default.DemonstrationLine);
}

/// <summary>A demonstration line as written; the world in the world file format (<see cref="WorldJson"/>).</summary>
internal sealed record DemonstrationLine(
    string Task,
    int TaskVersion,
    string Split,
    string Episode,
    [property: JsonConverter(typeof(WorldJson.Converter))] World World,
    string Target,
    IReadOnlyList<string>? Subset);
