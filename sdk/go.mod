module github.com/thaili/thaili/sdk

go 1.26.8
