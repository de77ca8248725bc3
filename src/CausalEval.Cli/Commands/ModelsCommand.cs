using System.CommandLine;
using CausalEval.Baseline;
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
            console.Out.WriteLine();
            console.Out.WriteLine("torch/<name-or-path> — the TorchSharp imitation baseline, offline, no settings needed:");
            console.Out.WriteLine($"  {TorchModelProvider.DefaultModelId,-26} the committed checkpoint (models/torch/default, copied next to the executable)");
            console.Out.WriteLine($"  {"torch/<name>",-26} a checkpoint folder named <name> under ${TorchModelProvider.EnvironmentVariable}, ./models/torch or next to the executable");
            console.Out.WriteLine($"  {"torch/<path>",-26} a checkpoint folder (model.bin + model.json) made by `causaleval baseline train`");
            return CliApp.Ok;
        });
        return command;
    }

    public static ModelCatalog Catalog() => new([new BuiltinModelProvider(), new TorchModelProvider()]);
}
