"""thinkgym.verifiers"""
