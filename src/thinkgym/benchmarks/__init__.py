"""thinkgym.benchmarks"""
