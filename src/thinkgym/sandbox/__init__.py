"""thinkgym.sandbox"""
