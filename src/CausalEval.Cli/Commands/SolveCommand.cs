using System.CommandLine;
using System.Text;
using System.Text.Json;
using CausalEval.Core;
using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval solve WORLD.json --target VAR</c>: the oracle as JSON (DESIGN §2.1).</summary>
internal static class SolveCommand
{
    public static Command Create(CliConsole console)
    {
        var world = new Argument<string>("world") { Description = "World file (JSON, DESIGN §1.1)" };
        var target = new Option<string>("--target") { Description = "Variable to make as large as possible", Required = true };
        var command = new Command("solve", "Exact total effects and every optimal exploit action for a world") { world, target };
        command.SetAction(parse =>
        {
            var loaded = WorldJson.Load(parse.GetValue(world)!);
            var goal = parse.GetValue(target)!;
            if (loaded.IndexOf(goal) < 0)
            {
                throw new InputException("--target", goal, $"not a variable of the world (variables: {string.Join(", ", loaded.Variables)})");
            }
            if (!loaded.IsObservable(goal))
            {
                throw new InputException("--target", goal, "the target is hidden");
            }
            console.Out.WriteLine(ToJson(loaded, ExploitOracle.Solve(loaded, goal, null, EpisodeOptions.DefaultAllowedValues)));
            return CliApp.Ok;
        });
        return command;
    }

    internal static string ToJson(World world, Solution solution)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("target", solution.Target);
            writer.WriteStartObject("total_effects");
            foreach (var from in world.Observable)
            {
                writer.WriteStartObject(from);
                foreach (var to in world.Observable)
                {
                    if (to != from)
                    {
                        writer.WriteNumber(to, world.TotalEffect(from, to) + 0.0);
                    }
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            WriteActions(writer, "actions", solution.Actions);
            WriteActions(writer, "optimal", solution.Optimal);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteActions(Utf8JsonWriter writer, string name, IEnumerable<ScoredAction> actions)
    {
        writer.WriteStartArray(name);
        foreach (var action in actions)
        {
            writer.WriteStartObject();
            writer.WriteString("variable", action.Action.Variable);
            writer.WriteNumber("value", action.Action.Value);
            writer.WriteNumber("expected", action.Expected + 0.0);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
