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
            console.Out.WriteLine(SolutionJson.ToJson(loaded, ExploitOracle.Solve(loaded, goal, null, EpisodeOptions.DefaultAllowedValues)));
            return CliApp.Ok;
        });
        return command;
    }
}
