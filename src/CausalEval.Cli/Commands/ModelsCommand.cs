using System.CommandLine;
using CausalEval.Core.Agents;

namespace CausalEval.Cli.Commands;

/// <summary><c>causaleval models</c>: the model ids this build can run.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("models", "List providers and model ids");
        command.SetAction(_ =>
        {
            console.Out.WriteLine("builtin/<name> — reference agents, offline, no settings needed:");
            foreach (var (name, entry) in BuiltinAgents.All)
            {
                console.Out.WriteLine($"  builtin/{name,-18} {entry.Description}");
            }
            return CliApp.Ok;
        });
        return command;
    }

    public static ModelCatalog Catalog() => new([new BuiltinModelProvider()]);
}
