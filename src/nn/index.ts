// Neural-network building blocks: modules, layers, initialisers, Wide-ResNet.

export * from './module.js';
export * from './init.js';
export * from './layers.js';
export * from './wide-resnet.js';
