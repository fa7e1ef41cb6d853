Console.WriteLine("usage: dotnet run -c Release --project bench/AgentMarket.Bench -- <suite>");
