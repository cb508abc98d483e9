Console.WriteLine("hello " + typeof(Microsoft.ML.CompactTransformer.Training.TrainingDevice).Assembly.GetName().Name);
